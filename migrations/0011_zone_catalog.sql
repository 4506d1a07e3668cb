-- Cloudflare's zone list, cached for the catalog (src/domain/catalog.ts): one row, the trimmed zones
-- as JSON, when they were listed, a sweep lease (so concurrent page loads start one sweep between
-- them) and the end of a Cloudflare rate limit seen by the last sweep.
CREATE TABLE zone_catalog (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  zones_json TEXT NOT NULL DEFAULT '[]',
  fetched_at TEXT,
  sweep_until TEXT,
  rate_limited_until TEXT
);
INSERT INTO zone_catalog (id) VALUES (1);

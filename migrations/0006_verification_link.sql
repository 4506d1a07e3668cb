-- Verification links and confidence (issue 16): next to `verification_code`, the message's primary
-- sign-in / confirm / verify / magic / reset URL (or NULL) and how sure the extractor is (0..1, of
-- the code when there is one, else of the link). Rows stored before this migration keep NULL in
-- both; their `verification_source` stays "body" (new rows say "text" or "html").
ALTER TABLE messages ADD COLUMN verification_link TEXT;
ALTER TABLE messages ADD COLUMN verification_confidence REAL;

/** English, docs: loaded with the API reference (/api/docs) (ui/i18n.js `need`); same keys as ../zh/docs.js (test/node/i18n.test.ts). */
export default {
  "docs.access": "Access:",
  "docs.scope": "scope",
  "docs.params": "Parameters",
  "docs.name": "Name",
  "docs.in": "In",
  "docs.required": "Required",
  "docs.schema": "Schema",
  "docs.body": "Request body",
  "docs.responses": "Responses",
  "docs.machine": "Machine-readable:",
  "docs.auth": "Authenticate with",
  "docs.schemas": "Schemas",
  "docs.failed": "Could not load /api/openapi.json:",
};

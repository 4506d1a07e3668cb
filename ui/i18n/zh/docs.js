/** 简体中文, docs: same keys as ../en/docs.js (test/node/i18n.test.ts). */
export default {
  "docs.access": "访问权限：",
  "docs.scope": "权限范围",
  "docs.params": "参数",
  "docs.name": "名称",
  "docs.in": "位置",
  "docs.required": "必填",
  "docs.schema": "结构",
  "docs.body": "请求体",
  "docs.responses": "响应",
  "docs.machine": "机器可读版本：",
  "docs.auth": "认证方式：",
  "docs.schemas": "数据结构",
  "docs.failed": "无法加载 /api/openapi.json：",
};

// ESLint (make lint): the recommended rules plus strict equality, for the widget, the pages' scripts and
// the build. The widget and pages run in browsers; the build and this file in Node.
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    // Built, vendored or installed code.
    ignores: ["engagement/static/dist/", "tests/browser/vendor/", "node_modules/", ".venv/", "bench/isso-venv/"],
  },
  js.configs.recommended,
  {
    rules: { eqeqeq: ["error", "always"] },
  },
  {
    files: ["engagement/static/**/*.js"],
    languageOptions: { globals: globals.browser },
  },
  {
    // A plain script, not a module: the embed page loads it with <script defer>.
    files: ["engagement/static/pages/*.js"],
    languageOptions: { sourceType: "script" },
  },
  {
    files: ["*.js"],
    languageOptions: { globals: globals.node },
  },
];

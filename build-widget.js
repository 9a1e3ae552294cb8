// Builds the widget the service serves as /widget.js (`make widget`; docs/widget.md).
//
// esbuild bundles the ES modules in engagement/static/widget (entry: boot.js) into one minified script
// that runs in its own function scope, and writes it to engagement/static/dist/widget.js, a committed
// file: the service reads it and needs no Node. Two sources are not JavaScript:
// - styles.css becomes the minified text each shadow root's <style> holds; it is also written to
//   dist/widget.css, from which the service computes the hash its pages' Content-Security-Policy allows.
//   It is also written, scoped to the container of a server-rendered thread, to dist/widget-ssr.css: the
//   same rules in the light DOM (`:host` becomes the container .engagement-ssr, every other rule is nested
//   under it and flattened by esbuild), so a thread the server rendered looks as the widget will draw it.
// - messages.json (language -> key -> text) becomes MESSAGE_KEYS and ENGLISH (its texts in key order),
//   built in, and one file per other language, dist/lang/<language>.<hash>.json (its texts in key order),
//   which the widget fetches for readers of that language (LANGUAGE_FILES names them); a language whose
//   keys differ from English's fails the build.
//
// node build-widget.js [--source DIR] [--outdir DIR]: the tests build into a temporary directory.
import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";

const root = path.dirname(fileURLToPath(import.meta.url));
const { values: options } = parseArgs({
  options: {
    source: { type: "string", default: path.join(root, "engagement/static/widget") },
    outdir: { type: "string", default: path.join(root, "engagement/static/dist") },
  },
});

const stylesheets = [];
const languageFiles = new Map();

const widgetAssets = {
  name: "widget-assets",
  setup(build) {
    build.onLoad({ filter: /\.css$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const { code } = await esbuild.transform(source, { loader: "css", minify: true });
      const css = code.trim();
      stylesheets.push(css);
      return { contents: css, loader: "text" };
    });
    build.onLoad({ filter: /messages\.json$/ }, async (args) => {
      const messages = JSON.parse(await readFile(args.path, "utf8"));
      const keys = Object.keys(messages.en);
      const errors = [];
      for (const [language, texts] of Object.entries(messages)) {
        const own = Object.keys(texts);
        const differing = [...keys.filter((key) => !own.includes(key)), ...own.filter((key) => !keys.includes(key))];
        if (differing.length) errors.push({ text: `${language} keys differ from en: ${differing.join(", ")}` });
      }
      // English is built in; every other language is a file of its own, named by its content's hash so it
      // can be cached for good, fetched only by readers of that language.
      const files = {};
      for (const [language, texts] of Object.entries(messages)) {
        if (language === "en") continue;
        const body = JSON.stringify(keys.map((key) => texts[key]));
        const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
        languageFiles.set(`${language}.${hash}.json`, body);
        files[language] = `${language}.${hash}.json`;
      }
      const contents = `export const MESSAGE_KEYS = ${JSON.stringify(keys)};
export const ENGLISH = ${JSON.stringify(keys.map((key) => messages.en[key]))};
export const LANGUAGE_FILES = ${JSON.stringify(files)};`;
      return { contents, errors, loader: "js" };
    });
  },
};

try {
  await esbuild.build({
    entryPoints: [path.join(options.source, "boot.js")],
    outfile: path.join(options.outdir, "widget.js"),
    bundle: true,
    format: "iife",
    target: "es2022",
    minify: true,
    // Modules are strict; the bundle is a classic script, so it says so.
    banner: { js: '"use strict";' },
    // UTF-8 as is: the service sends widget.js with charset=utf-8, and \u escapes would cost bytes.
    charset: "utf8",
    legalComments: "none",
    plugins: [widgetAssets],
    logLevel: "warning",
  });
} catch {
  // esbuild has printed the errors.
  process.exit(1);
}
if (stylesheets.length !== 1) {
  console.error(`the widget must import exactly one stylesheet, not ${stylesheets.length}`);
  process.exit(1);
}
await writeFile(path.join(options.outdir, "widget.css"), stylesheets[0]);
const scoped = await esbuild.transform(
  `.engagement-ssr{${stylesheets[0].replaceAll(":host(", "&:is(").replaceAll(":host", "&")}}`,
  { loader: "css", minify: true, target: ["chrome100", "firefox100", "safari15"] },
);
await writeFile(path.join(options.outdir, "widget-ssr.css"), scoped.code.trim());
// dist/lang holds exactly this build's language files: old hashes go.
const languageDir = path.join(options.outdir, "lang");
await rm(languageDir, { recursive: true, force: true });
await mkdir(languageDir, { recursive: true });
for (const [name, body] of languageFiles) await writeFile(path.join(languageDir, name), body);

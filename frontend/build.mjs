// Bundles the SMART timeline app into cds_service/smart_app/static/ (served under /app/static/).
// Everything comes from node_modules (installed by `npm ci` from the lockfile): no CDN, so the
// app works on a hospital network without internet access.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(here, "..", "cds_service", "smart_app", "static");

await build({
  entryPoints: {
    launch: path.join(here, "src", "launch.js"),
    app: path.join(here, "src", "app.js"),
    "app-style": path.join(here, "src", "app.css"),
  },
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  outdir,
  logLevel: "info",
});

#!/bin/sh
# Copies the browser files of npm packages that the Worker serves as static assets
# (wrangler.toml [assets], directory public/) out of node_modules. Runs after every
# install (package.json "postinstall"), so the copies always match package-lock.json;
# they are not committed (.gitignore).
set -eu
cd "$(dirname "$0")/.."
# The API reference page, /api/docs/: Swagger UI renders /api/openapi.json.
vendor=public/api/docs/vendor
mkdir -p "$vendor"
for file in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css favicon-32x32.png LICENSE NOTICE; do
  cp node_modules/swagger-ui-dist/"$file" "$vendor/$file"
done

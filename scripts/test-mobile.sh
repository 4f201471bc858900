#!/usr/bin/env bash
# The owner-app binding (bindings/mobile, issue 13): its Rust tests; the library built and its
# Kotlin and Swift bindings regenerated into a temporary folder and compared with the committed
# ones (drift check); the README's Kotlin snippet compared with the test that runs it; then the
# Kotlin tests on the JVM against the built library (Maven fetches its own dependencies).
# Needs the Rust toolchain, Java 17+ and Maven. No Swift compiler: Swift is only drift-checked.
set -euo pipefail
cd "$(dirname "$0")/.."
mobile="$PWD/bindings/mobile"
target="${CARGO_TARGET_DIR:-$mobile/target}"

cargo test --quiet --manifest-path "$mobile/Cargo.toml"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bash "$mobile/generate.sh" "$tmp/generated"
if ! diff -r "$mobile/generated" "$tmp/generated"; then
    echo "bindings/mobile/generated is stale: run bindings/mobile/generate.sh and commit it" >&2
    exit 1
fi

python3 - "$mobile" <<'PY'
import sys, textwrap
mobile = sys.argv[1]
test = open(f"{mobile}/kotlin/src/test/kotlin/org/autocrm/owner/OwnerAppTest.kt").read()
snippet = textwrap.dedent(test.split("// README:begin\n")[1].split("// README:end")[0]).strip()
if snippet not in open(f"{mobile}/README.md").read():
    sys.exit("bindings/mobile/README.md: the Kotlin snippet differs from OwnerAppTest.readmeSnippet")
PY

mvn -B -q -f "$mobile/kotlin/pom.xml" test -Dautocrm.lib.dir="$target/release"
# Maven is quiet: state the Kotlin count from Surefire's reports.
python3 - "$mobile/kotlin/target/surefire-reports" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
runs = [ET.parse(f).getroot() for f in glob.glob(f"{sys.argv[1]}/TEST-*.xml")]
n = sum(int(r.get("tests")) for r in runs)
bad = sum(int(r.get("failures")) + int(r.get("errors")) for r in runs)
print(f"kotlin: {n - bad} passed, {bad} failed")
sys.exit(1 if bad or not n else 0)
PY
echo "mobile binding: Rust tests, drift check, README snippet and Kotlin tests passed"

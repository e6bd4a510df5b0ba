#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need when it is absent
# (PostgreSQL server binaries, the Tryton server and modules), then `dotnet test`. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v runuser >/dev/null || missing+=(util-linux)
# A real Tryton ERP for the adapter's integration tests (Debian's packages, without recommends: ~30 MB).
tryton=(tryton-server tryton-modules-party tryton-modules-product tryton-modules-stock tryton-modules-sale
        tryton-modules-account tryton-modules-account-invoice tryton-modules-sale-credit-limit python3-phonenumbers
        tryton-modules-country python3-pycountry tryton-proteus)
for package in "${tryton[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test RetailSync.sln "$@" 2>&1 | tee "$log" || status=$?

# One plain closing line for whoever reads the log: totals over every test assembly.
awk '/(Passed|Failed)! +- +Failed: +[0-9]+, Passed: +[0-9]+/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit $status

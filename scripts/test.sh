#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need when it is absent
# (PostgreSQL server binaries), then `dotnet test`. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v runuser >/dev/null || missing+=(util-linux)

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

dotnet test RetailSync.sln --logger "console;verbosity=normal" "$@"

#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a used one: installs or starts what the tests
# need when it is missing, then checks formatting and lints and runs every test, each database
# test against SQLite and against PostgreSQL. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }
die() { printf 'scripts/test.sh: %s\n' "$*" >&2; exit 1; }

apt_ready=
apt_install() {
  [ "$(id -u)" = 0 ] || die "missing packages ($*) and not root: install them, then run again"
  if [ -z "$apt_ready" ]; then apt-get update -qq; apt_ready=1; fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Build dependencies: a C compiler (bundled SQLite), pkg-config, OpenSSL and libpq headers.
missing=()
command -v cc >/dev/null || missing+=(gcc libc6-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
command -v pg_isready >/dev/null || missing+=(postgresql-client)
# Independent readers of the letters naskah writes: poppler (pdftotext, pdftoppm) and qpdf.
command -v pdftotext >/dev/null || missing+=(poppler-utils)
command -v qpdf >/dev/null || missing+=(qpdf)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
# Independent judges of signatures: poppler's pdfsig (above), with an NSS database made by
# certutil; openssl to read certificates.
command -v certutil >/dev/null || missing+=(libnss3-tools)
command -v openssl >/dev/null || missing+=(openssl)
# Other signers, whose files the interop suite verifies (tests/signers): PDFBox with
# BouncyCastle on Java, and Node.js for @signpdf.
command -v java >/dev/null || missing+=(default-jdk-headless)
for jar in pdfbox2 fontbox2 commons-logging; do
  [ -f /usr/share/java/$jar.jar ] || missing+=(libpdfbox2-java)
done
for jar in bcprov bcpkix bcutil; do
  [ -f /usr/share/java/$jar.jar ] || missing+=(libbcprov-java libbcpkix-java libbcutil-java)
done
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# The browser the web pages are tested in: Debian's Chromium, driven through its ChromeDriver.
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# A QR decoder independent of naskah, to read back the codes printed on letters.
if ! python3 -c 'import zxingcpp, PIL' 2>/dev/null; then
  say "installing zxing-cpp and pillow (pip)"
  python3 -m pip install -q --disable-pip-version-check zxing-cpp pillow
fi

# pyHanko, the other judge of signatures, at the versions the suite was written against.
PYHANKO="pyhanko==0.38.0 pyhanko-cli==0.6.0 pyhanko-certvalidator==0.33.0"
if ! python3 -m pip show -q pyhanko-cli 2>/dev/null || ! command -v pyhanko >/dev/null; then
  say "installing pyHanko (pip)"
  python3 -m pip install -q --disable-pip-version-check $PYHANKO
  # Under pyenv a new command needs its shim.
  if command -v pyenv >/dev/null; then pyenv rehash; fi
fi
command -v pyhanko >/dev/null || die "pyhanko installed but not on PATH"

# endesive, another Python signer, at the version the suite was written against.
ENDESIVE="endesive==2.19.3"
if ! python3 -c 'import endesive' 2>/dev/null; then
  say "installing endesive (pip)"
  python3 -m pip install -q --disable-pip-version-check $ENDESIVE
fi

# @signpdf, the Node.js signer, from its lock file.
if [ ! -d tests/signers/signpdf/node_modules ] \
  || [ tests/signers/signpdf/package-lock.json -nt tests/signers/signpdf/node_modules ]; then
  say "installing @signpdf (npm ci)"
  (cd tests/signers/signpdf && npm ci --no-audit --no-fund --silent)
fi

# schemathesis, which sends generated calls to every operation of the OpenAPI document.
SCHEMATHESIS="schemathesis==4.32.5"
if ! command -v schemathesis >/dev/null; then
  say "installing schemathesis (pip)"
  python3 -m pip install -q --disable-pip-version-check $SCHEMATHESIS
  if command -v pyenv >/dev/null; then pyenv rehash; fi
fi
command -v schemathesis >/dev/null || die "schemathesis installed but not on PATH"

# PostgreSQL answering on 127.0.0.1:5432. When this script has to install or start it, it lets
# local TCP connections in without a password: this is a test machine's server.
PG_URL=${NASKAH_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export NASKAH_TEST_POSTGRES_URL=$PG_URL
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    pg_createcluster "$version" main >/dev/null
  fi
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not start on 127.0.0.1:5432"
fi
command -v psql >/dev/null || apt_install postgresql-client
psql "$PG_URL" -qtAc 'SELECT 1' >/dev/null \
  || die "PostgreSQL answers on 127.0.0.1:5432 but not to $PG_URL (set NASKAH_TEST_POSTGRES_URL)"

say "cargo fmt --check"
cargo fmt --check
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
say "cargo test (SQLite and PostgreSQL)"
cargo test --locked

#!/usr/bin/env bash
# Fuzzing (README "Fuzzing"): builds the libFuzzer targets in fuzz/ and runs each in turn, on one
# core, from the committed seeds in fuzz/corpus/<target>/ plus what earlier runs found.
#
#   bash scripts/fuzz.sh [--seconds N] [--sanitizer leak|address|none] [--jobs N] [target...]
#
# --seconds: per target (default 20). --sanitizer: `leak` (default: LeakSanitizer, nearly free)
# or `address` (AddressSanitizer, about 10x slower). --jobs: build parallelism (default half the
# cores, all of them when $CI is set). Installs cargo-fuzz once per machine. Findings go to
# fuzz/artifacts/<target>/; the corpus libFuzzer grows stays in fuzz/grown/<target>/ (both
# git-ignored). Exits 1 on any crash, invariant violation, leak, timeout or out-of-memory.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
seconds=20
sanitizer=leak
cores=$(nproc 2>/dev/null || echo 2)
# Half the cores on a shared machine; all of them in CI, where nothing else runs.
jobs=$(((cores + 1) / 2))
[ -z "${CI:-}" ] || jobs=$cores
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --sanitizer) sanitizer=$2; shift 2 ;;
    --sanitizer=*) sanitizer=${1#*=}; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#*=}; shift ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
case "$seconds" in '' | *[!0-9]*) echo "fuzz: --seconds takes a whole number" >&2; exit 2 ;; esac
case "$sanitizer" in leak | address | none) ;; *) echo "fuzz: --sanitizer is leak, address or none" >&2; exit 2 ;; esac
all=()
for f in fuzz/fuzz_targets/*.rs; do all+=("$(basename "$f" .rs)"); done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] || { echo "fuzz: no target \"$t\" (targets: ${all[*]})" >&2; exit 2; }
done

# Runs a long step with its output in a log, printing a line every 30 s; the log is shown on failure.
step() {
  local label=$1; shift
  local log start pid status
  log=$(mktemp)
  start=$SECONDS
  "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
      sleep 2
      kill -0 "$pid" 2>/dev/null || break 2
    done
    echo "   ... $label: $((SECONDS - start)) s"
  done
  status=0
  wait "$pid" || status=$?
  if [ "$status" != 0 ]; then
    tail -n 60 "$log" >&2
    rm -f "$log"
    echo "fuzz: $label failed" >&2
    exit "$status"
  fi
  rm -f "$log"
}

# cargo-fuzz, cached once per machine. Installed into a temporary root and renamed into place,
# so two clones installing at once never see a half-written copy (the loser drops its own).
root="${XDG_CACHE_HOME:-$HOME/.cache}/tokengate/cargo-fuzz"
have_cargo_fuzz() { "$root/bin/cargo-fuzz" --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; }
if ! have_cargo_fuzz; then
  echo "== fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION into $root (about 2 minutes, once per machine)"
  mkdir -p "$(dirname "$root")"
  tmp=$(mktemp -d "$root.tmp.XXXXXX")
  step "installing cargo-fuzz" cargo install --quiet --locked --root "$tmp" --version "$CARGO_FUZZ_VERSION" -j "$jobs" cargo-fuzz
  rm -f "$tmp/.crates.toml" "$tmp/.crates2.json"
  if [ -e "$root" ] && ! have_cargo_fuzz; then
    mv -T "$root" "$root.old.$$" 2>/dev/null && rm -rf "$root.old.$$"
  fi
  mv -T "$tmp" "$root" 2>/dev/null || rm -rf "$tmp"
  have_cargo_fuzz || { echo "fuzz: cargo-fuzz $CARGO_FUZZ_VERSION did not install" >&2; exit 1; }
fi
export PATH="$root/bin:$PATH"
# cargo-fuzz passes -Z flags (sanitizer coverage); the stable toolchain accepts them this way.
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_QUIET=true

echo "== fuzz: lint (cargo fmt --check, cargo clippy -D warnings on fuzz/)"
cargo fmt --manifest-path fuzz/Cargo.toml --check
step "clippy on fuzz/" cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -j "$jobs" -- -D warnings

target_dir=fuzz/target/$sanitizer
echo "== fuzz: building ${#targets[@]} target(s) (sanitizer: $sanitizer; a first build takes about 4 minutes)"
build=()
[ ${#targets[@]} = ${#all[@]} ] || build=("${targets[@]}")
if [ ${#build[@]} = 0 ]; then
  step "building" cargo fuzz build --fuzz-dir fuzz -s "$sanitizer" --target-dir "$target_dir"
else
  for t in "${build[@]}"; do
    step "building $t" cargo fuzz build --fuzz-dir fuzz -s "$sanitizer" --target-dir "$target_dir" "$t"
  done
fi
triple=$(rustc -vV | sed -n 's/^host: //p')
bin_dir=$target_dir/$triple/release

echo "== fuzz: ${#targets[@]} target(s), ${seconds} s each, one at a time"
summary=()
failed=0
for t in "${targets[@]}"; do
  artifacts=fuzz/artifacts/$t
  grown=fuzz/grown/$t
  mkdir -p "$artifacts" "$grown"
  before=$(find "$artifacts" -type f | wc -l)
  log=$(mktemp)
  status=0
  # The grown corpus comes first: libFuzzer writes new inputs only there, never to the seeds.
  "$bin_dir/$t" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -dict=fuzz/tokengate.dict -artifact_prefix="$artifacts/" "$grown" "fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  found=$(find "$artifacts" -type f | wc -l)
  if [ "$status" = 0 ] && [ "$found" = "$before" ]; then
    line=$(printf '%-12s %12s execs %8s/s  nothing found' "$t" "${execs:-?}" "${rate:-?}")
  else
    failed=1
    what=$(grep -Eo 'ERROR: (libFuzzer|LeakSanitizer|AddressSanitizer): [a-z -]+' "$log" | head -n 1 || true)
    newest=$(ls -t "$artifacts" 2>/dev/null | head -n 1)
    line=$(printf '%-12s %12s execs %8s/s  FOUND (%s) %s' "$t" "${execs:-?}" "${rate:-?}" "${what:-exit $status}" "${newest:+$artifacts/$newest}")
    echo "--- $t: end of the libFuzzer log"
    grep -v -E '^#[0-9]+|^(INFO|MERGE)' "$log" | tail -n 30
  fi
  echo "$line"
  summary+=("$line")
  rm -f "$log"
done
echo "== fuzz summary (sanitizer $sanitizer, ${seconds} s per target)"
printf '%s\n' "${summary[@]}"
if [ "$failed" != 0 ]; then
  echo "fuzz: findings in fuzz/artifacts/ (reproduce: $bin_dir/<target> <file>)" >&2
  exit 1
fi

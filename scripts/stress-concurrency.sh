#!/usr/bin/env bash
# Run the concurrency tests (writer lock across processes and threads, readers during ingests,
# index opening under threads, the server switching generations) N times in a row; exit 1 at
# the first failure. docs/reliability.md gives the count of the last run.
#   bash scripts/stress-concurrency.sh 50
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-50}"
TESTS=(
  "tests/test_index_safety.py::test_a_second_ingest_process_is_told_the_index_is_busy"
  "tests/test_index_safety.py::test_two_ingest_processes_at_once_lose_nothing"
  "tests/test_index_safety.py::test_the_lock_excludes_threads_of_one_process_and_says_who_holds_it"
  "tests/test_index_safety.py::test_index_files_are_never_parsed_by_two_threads_at_once"
  "tests/test_reliability.py::test_readers_during_an_ingest_see_a_whole_index"
  "tests/test_ui_security.py::test_service_follows_an_ingest_made_by_another_process"
  "tests/test_ui_security.py::test_concurrent_wrong_passwords_cannot_slip_past_the_limit"
)
for extra in ${STRESS_EXTRA:-}; do TESTS+=("$extra"); done
ARGS=()
for _ in $(seq "$N"); do ARGS+=("${TESTS[@]}"); done
# one pytest session (the model is loaded once); --keep-duplicates runs each repeat
.venv/bin/python -m pytest -q --keep-duplicates -x "${ARGS[@]}"

#!/usr/bin/env bash
# Run the concurrency tests N times in a row, in one pytest session each (the model loads once);
# exit 1 at the first failure. docs/reliability.md gives the counts of the last run.
#   bash scripts/stress-concurrency.sh [N_THREADS=50] [N_PROCESSES=50]
# The thread-level tests (writer lock between threads, index opening under threads, readers
# during ingests, a burst of logins) take seconds a round; the process-level ones (two real
# `rag ingest` processes, a server following another process's ingest) ~70 s a round on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
N_THREADS="${1:-50}"
N_PROCESSES="${2:-50}"
THREADS=(
  "tests/test_index_safety.py::test_the_lock_excludes_threads_of_one_process_and_says_who_holds_it"
  "tests/test_index_safety.py::test_index_files_are_never_parsed_by_two_threads_at_once"
  "tests/test_reliability.py::test_readers_during_an_ingest_see_a_whole_index"
  "tests/test_ui_security.py::test_concurrent_wrong_passwords_cannot_slip_past_the_limit"
)
PROCESSES=(
  "tests/test_index_safety.py::test_a_second_ingest_process_is_told_the_index_is_busy"
  "tests/test_index_safety.py::test_two_ingest_processes_at_once_lose_nothing"
  "tests/test_ui_security.py::test_service_follows_an_ingest_made_by_another_process"
)
RAG_REPEAT="$N_THREADS" .venv/bin/python -m pytest -q -x ${PYTEST_ARGS:-} "${THREADS[@]}"
RAG_REPEAT="$N_PROCESSES" .venv/bin/python -m pytest -q -x ${PYTEST_ARGS:-} "${PROCESSES[@]}"

#!/usr/bin/env bash
# Regenerates the flatbuffers TypeScript for src/codec/*.fbs. Needs flatc 2.0.8
# (Debian: apt-get install flatbuffers-compiler). The output is committed.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf generated && mkdir -p generated
flatc --ts --ts-flat-files -o generated bid-batch.fbs events.fbs

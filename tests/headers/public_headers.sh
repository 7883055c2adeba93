#!/usr/bin/env bash
# Every public framework header compiles on its own and pulls in neither rabbitmq-c nor libuv:
# code that uses Causeway (the daemon included) sees C++ values only. Public: every header in
# framework/causeway/, and those of framework/causeway/amqp/ that its README does not mark
# "(internal)".
#   public_headers.sh CXX SOURCE_DIR WORK_DIR
set -euo pipefail
cxx=$1 source_dir=$2 work=$3
mkdir -p "$work"
cd "$source_dir/framework"
headers=(causeway/*.hpp)
while IFS= read -r row; do
  [[ $row == *"(internal)"* ]] && continue
  name=$(sed -n 's/^| `\([a-z_]*\.hpp\)` |.*/\1/p' <<<"$row")
  [[ -n $name ]] && headers+=("causeway/amqp/$name")
done < causeway/amqp/README.md
failed=0
for header in "${headers[@]}"; do
  [[ -f $header ]] || { echo "FAIL $header: listed in causeway/amqp/README.md but missing"; failed=1; continue; }
  deps="$work/$(tr / _ <<<"$header").d"
  if ! "$cxx" -std=c++20 -I. -fsyntax-only -M -MF "$deps" -x c++ "$header" 2>"$work/error.txt"; then
    echo "FAIL $header does not compile on its own: $(head -1 "$work/error.txt")"
    failed=1
    continue
  fi
  if leaked=$(grep -oE '/(amqp|amqp_framing|amqp_ssl_socket|amqp_tcp_socket|uv)\.h\b' "$deps" | sort -u | tr '\n' ' ') && [[ -n $leaked ]]; then
    echo "FAIL $header includes $leaked"
    failed=1
  fi
done
echo "${#headers[@]} public headers checked"
exit $failed

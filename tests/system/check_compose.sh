#!/bin/sh
# ctest check_compose: docker-compose.yml is valid (docker-compose config -q,
# no Docker engine needed) and every program it runs, in a command:,
# entrypoint: or healthcheck test:, is one the build makes.
# Usage: check_compose.sh BIN_DIR SOURCE_DIR
set -eu
BIN_DIR=$1
COMPOSE=$2/docker-compose.yml

command -v docker-compose >/dev/null 2>&1 || {
    echo "check_compose: docker-compose is needed (apt-get install --no-install-recommends docker-compose)" >&2
    exit 1
}
docker-compose -f "$COMPOSE" config -q
echo "check_compose: $COMPOSE is valid"

# Commands are flow lists, program first ("CMD" first for a healthcheck);
# a shell-string command would hide its program, so it fails the check.
programs=$(awk '
    /^[ \t]*(command|entrypoint|test):/ {
        line = $0
        sub(/^[ \t]*(command|entrypoint|test):[ \t]*/, "", line)
        if (line !~ /^\[/) { print "NOT-A-LIST:" $0; next }
        gsub(/[\[\]",]/, " ", line)
        n = split(line, word, " ")
        first = (word[1] == "CMD" || word[1] == "CMD-SHELL") ? word[2] : word[1]
        print first
    }' "$COMPOSE")
[ -n "$programs" ] || { echo "check_compose: no commands found in $COMPOSE" >&2; exit 1; }
failed=0
checked=0
for program in $programs; do
    case $program in
        NOT-A-LIST:*) echo "check_compose: write commands as lists: ${program#NOT-A-LIST:}" >&2; failed=$((failed + 1)); continue ;;
    esac
    checked=$((checked + 1))
    if [ -x "$BIN_DIR/$program" ]; then
        echo "check_compose: $program: built"
    else
        echo "check_compose: $program is run by $COMPOSE but not built in $BIN_DIR" >&2
        failed=$((failed + 1))
    fi
done
echo "check_compose: $((checked - failed < 0 ? 0 : checked - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]

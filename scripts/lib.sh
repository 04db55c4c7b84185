# Helpers shared by the scripts that start a server or a database; sourced, not run.

# A TCP port on 127.0.0.1 that is free now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits up to 10 s for the server at $1 to answer /api/health; fails if it never does.
wait_for_health() {
    local _
    for _ in $(seq 1 100); do
        curl -fsS "$1/api/health" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# Starts the server binary $2 in the background on a free loopback port, its data in
# $3/data and its log in $3/server.log, with the VAR=value settings that follow; sets
# server_pid and server_base. Fails, naming $1 and showing the log, if it never answers.
start_server() {
    local name=$1 binary=$2 work=$3
    shift 3
    server_base="http://127.0.0.1:$(free_port)"
    launch_server "$name" "$binary" "$work" "$@"
}

# Starts the server again after it died, on the same port and data directory, with the
# same settings: a restart as its clients see it.
restart_server() {
    launch_server "$@"
}

launch_server() {
    local name=$1 binary=$2 work=$3
    shift 3
    env LEPTOS_SITE_ADDR="${server_base#http://}" PAINLESS_SERVER__DATA_DIR="$work/data" RUST_LOG=warn \
        "$@" "$binary" >>"$work/server.log" 2>&1 &
    server_pid=$!
    wait_for_health "$server_base" || {
        echo "$name: the server did not start" >&2
        cat "$work/server.log" >&2
        return 1
    }
}

# Stops the server start_server started, if it did.
stop_server() {
    [[ -n "${server_pid:-}" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    return 0
}

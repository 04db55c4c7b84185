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

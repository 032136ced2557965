#!/usr/bin/env bash
# Makes sure the servers the connector tests talk to are up on 127.0.0.1 and
# configured as the tests need, starting (and, where missing, installing with
# apt-get) what is not. `make test` runs it before `go test`; it is safe to
# run again. It never fails the build itself: a service it cannot bring up
# is named in a clear message, and the tests that need it then fail with the
# same name (WEIR_REQUIRE_SERVICES=1 makes the script fail instead).
#
# PostgreSQL: wal_level=logical (CDC needs it) and max_prepared_transactions=64
# (the exactly-once postgres sink needs it); changing them restarts the
# cluster. MariaDB: binary log on, row format (binlog CDC needs it).
# ClickHouse: Debian's clickhouse-server (18.16), HTTP interface on 8123.
set -uo pipefail

missing=()
note() { echo "test-services: $*" >&2; }

port_up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		port_up "$1" && return 0
		sleep 0.1
	done
	return 1
}

have() { command -v "$1" >/dev/null 2>&1; }

apt_install() { # package...
	have apt-get || return 1
	note "installing $* with apt-get"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 ||
		{ DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1; }
}

# --- PostgreSQL 5432 -------------------------------------------------------
postgres() {
	if ! port_up 5432; then
		[ -d /etc/postgresql ] || apt_install postgresql
		if have pg_ctlcluster && [ -d /etc/postgresql ]; then
			pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1
		fi
		wait_port 5432 20 || { missing+=("PostgreSQL on 127.0.0.1:5432"); return; }
	fi
	local psql=(psql -h 127.0.0.1 -U postgres -d postgres -Atq -v ON_ERROR_STOP=1)
	if ! "${psql[@]}" -c 'select 1' >/dev/null 2>&1; then
		missing+=("PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth, refused)")
		return
	fi
	# The tests' database.
	if [ "$("${psql[@]}" -c "select count(*) from pg_database where datname='test'")" = 0 ]; then
		"${psql[@]}" -c 'create database test' >/dev/null
	fi
	# wal_level=logical for CDC; max_prepared_transactions>0 for the
	# exactly-once sink's two-phase commit (PREPARE TRANSACTION). Both need
	# a restart of the cluster, done once.
	if [ "$("${psql[@]}" -c 'show wal_level')" != logical ] ||
		[ "$("${psql[@]}" -c 'show max_prepared_transactions')" = 0 ]; then
		note "PostgreSQL: setting wal_level=logical, max_prepared_transactions=64 and restarting the cluster"
		"${psql[@]}" -c 'alter system set wal_level = logical' >/dev/null
		"${psql[@]}" -c 'alter system set max_prepared_transactions = 64' >/dev/null
		if have pg_ctlcluster && [ -d /etc/postgresql ]; then
			pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main restart >/dev/null 2>&1
		fi
		wait_port 5432 30
		local i
		for ((i = 0; i < 100; i++)); do
			"${psql[@]}" -c 'select 1' >/dev/null 2>&1 && break
			sleep 0.1
		done
		if [ "$("${psql[@]}" -c 'show wal_level' 2>/dev/null)" != logical ]; then
			missing+=("PostgreSQL with wal_level=logical (could not restart the cluster)")
		fi
		if [ "$("${psql[@]}" -c 'show max_prepared_transactions' 2>/dev/null)" = 0 ]; then
			missing+=("PostgreSQL with max_prepared_transactions>0 (could not restart the cluster)")
		fi
	fi
}

# --- MariaDB 3306 ----------------------------------------------------------
mariadb_up() {
	if ! port_up 3306; then
		have mariadbd || apt_install mariadb-server
		start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1
		wait_port 3306 30 || { missing+=("MariaDB on 127.0.0.1:3306"); return; }
	fi
	local my=(mariadb -h 127.0.0.1 -uroot -N -B)
	local i
	for ((i = 0; i < 100; i++)); do "${my[@]}" -e 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done
	"${my[@]}" -e 'create database if not exists test' >/dev/null 2>&1
	if [ "$("${my[@]}" -e 'select @@log_bin' 2>/dev/null)" != 1 ] || [ "$("${my[@]}" -e 'select @@binlog_format' 2>/dev/null)" != ROW ]; then
		note "MariaDB: turning the binary log on (row format) and restarting the server"
		mkdir -p /etc/mysql/conf.d
		cat >/etc/mysql/conf.d/weir-binlog.cnf <<'CNF'
[mariadbd]
log_bin = mariadb-bin
binlog_format = ROW
binlog_row_image = FULL
server_id = 1
CNF
		grep -q '^!includedir /etc/mysql/conf.d' /etc/mysql/my.cnf 2>/dev/null || echo '!includedir /etc/mysql/conf.d/' >>/etc/mysql/my.cnf
		"${my[@]}" -e 'shutdown' >/dev/null 2>&1
		# Wait for the process itself to go, not just its port: until it
		# has, start-stop-daemon --oknodo would take it for running.
		for ((i = 0; i < 600; i++)); do pgrep -x mariadbd >/dev/null || break; sleep 0.1; done
		start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1
		wait_port 3306 30
		for ((i = 0; i < 100; i++)); do "${my[@]}" -e 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done
		if [ "$("${my[@]}" -e 'select @@log_bin' 2>/dev/null)" != 1 ]; then
			missing+=("MariaDB with the binary log on (could not restart it)")
		fi
	fi
}

# --- Redis 6379 ------------------------------------------------------------
redis() {
	port_up 6379 && return
	have redis-server || apt_install redis-server
	mkdir -p /var/lib/redis /var/log/redis
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
		--dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1
	wait_port 6379 20 || missing+=("Redis on 127.0.0.1:6379")
}

# --- Mosquitto 1883 --------------------------------------------------------
mosquitto_up() {
	port_up 1883 && return
	have mosquitto || apt_install mosquitto
	mosquitto -d -c /etc/mosquitto/mosquitto.conf >/dev/null 2>&1
	wait_port 1883 20 || missing+=("Mosquitto (MQTT) on 127.0.0.1:1883")
}

# --- NATS with JetStream 4222 ----------------------------------------------
nats() {
	port_up 4222 && return
	[ -x /usr/sbin/nats-server ] || apt_install nats-server
	mkdir -p /var/lib/nats-server
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
		-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log >/dev/null 2>&1
	wait_port 4222 20 || missing+=("NATS with JetStream on 127.0.0.1:4222")
}

# --- RabbitMQ 5672 ---------------------------------------------------------
rabbitmq() {
	port_up 5672 && return
	have rabbitmq-server || apt_install rabbitmq-server
	rabbitmq-server -detached >/dev/null 2>&1
	wait_port 5672 90 || missing+=("RabbitMQ on 127.0.0.1:5672")
}

# --- ClickHouse HTTP 8123 --------------------------------------------------
clickhouse() {
	port_up 8123 && return
	[ -x /usr/sbin/clickhouse-server ] || apt_install clickhouse-server
	mkdir -p /var/lib/clickhouse /var/log/clickhouse-server
	chown clickhouse:clickhouse /var/lib/clickhouse /var/log/clickhouse-server 2>/dev/null
	# The package's config listens on 127.0.0.1 and ::1, port 8123 (HTTP).
	start-stop-daemon --start --oknodo --chuid clickhouse:clickhouse --background \
		--exec /usr/sbin/clickhouse-server -- --config=/etc/clickhouse-server/config.xml >/dev/null 2>&1
	wait_port 8123 60 || missing+=("ClickHouse (HTTP interface) on 127.0.0.1:8123")
}

postgres
mariadb_up
redis
mosquitto_up
nats
rabbitmq
clickhouse

if ((${#missing[@]})); then
	for m in "${missing[@]}"; do note "NOT AVAILABLE: $m (the tests that need it will fail and say so)"; done
	[ "${WEIR_REQUIRE_SERVICES:-0}" = 1 ] && exit 1
fi
exit 0

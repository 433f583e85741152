#!/usr/bin/env bash
# Installs the Debian packages the tests need (today: nats-server 2.9.10, for the interop tests that
# compare node-server's NATS listener with the real server). Idempotent: does nothing when they are
# already installed. Needs root (CI runs as root) or passwordless sudo.
set -euo pipefail

if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "nats-server is missing and this is not root: run 'sudo apt-get install -y nats-server'" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y nats-server
# The package starts a system service on 127.0.0.1:4222 where systemd runs; the tests start their
# own servers, and `pnpm cluster` wants port 4222 for node n1.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now nats-server >/dev/null 2>&1 || true
fi
if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
  echo "apt-get finished but no nats-server binary is on PATH or in /usr/sbin" >&2
  exit 1
fi

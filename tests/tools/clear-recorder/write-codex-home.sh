#!/usr/bin/env bash
# write-codex-home.sh DIR WORKSPACE : a fresh CODEX_HOME per agents.md, pointed at the fake on 18555
d=$1; ws=$2; rm -rf "$d"; mkdir -p "$d"
cat > "$d/config.toml" <<T
model = "fake-model"
model_provider = "fake"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false
[model_providers.fake]
name = "Fake"
base_url = "http://127.0.0.1:18555/v1"
env_key = "FAKE_API_KEY"
wire_api = "responses"
supports_websockets = false
request_max_retries = 0
stream_max_retries = 0
[analytics]
enabled = false
[features]
daemon_auto_start = false
plugins = false
remote_plugin = false
apps = false
shell_snapshot = false
unbounded_connection_retries = false
[tui]
disable_paste_burst = true
show_tooltips = false
animations = false
[notice]
hide_full_access_warning = true
[projects."$ws"]
trust_level = "trusted"
T

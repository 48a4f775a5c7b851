export CODEX_HOME=/root/cxresearch/home
export FAKE_API_KEY=dummy
export HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost
export TERM=xterm-256color

# Sourced by bin/run and bin/test: creates .venv on first use, installs requirements.txt
# whenever it changed, and puts the virtualenv first on PATH.
VENV_DIR="${VENV_DIR:-.venv}"
if [ ! -x "$VENV_DIR/bin/python" ]; then
  echo "Creating the virtualenv in $VENV_DIR" >&2
  python3 -m venv "$VENV_DIR"
fi
wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$VENV_DIR/.requirements.sha256" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing requirements.txt" >&2
  "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$wanted" > "$VENV_DIR/.requirements.sha256"
fi
export PATH="$PWD/$VENV_DIR/bin:$PATH"

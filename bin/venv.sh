# Sourced by bin/run, bin/test and bin/bench with the requirements file each needs: creates .venv
# on first use, installs that file whenever any requirements file changed, and puts the
# virtualenv first on PATH.
requirements="${1:?which requirements file}"
VENV_DIR="${VENV_DIR:-.venv}"
if [ ! -x "$VENV_DIR/bin/python" ]; then
  echo "Creating the virtualenv in $VENV_DIR" >&2
  python3 -m venv "$VENV_DIR"
fi
wanted="$requirements $(cat requirements*.txt | sha256sum | cut -d' ' -f1)"
if ! grep -qxF "$wanted" "$VENV_DIR/.requirements.sha256" 2>/dev/null; then
  echo "Installing $requirements" >&2
  "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$wanted" >> "$VENV_DIR/.requirements.sha256"
fi
case "$VENV_DIR" in
  /*) export PATH="$VENV_DIR/bin:$PATH" ;;
  *) export PATH="$PWD/$VENV_DIR/bin:$PATH" ;;
esac

#!/bin/sh
# Install the built app (dist/Inkwell) for this user, with a menu entry; no root needed.
#
#   packaging/install.sh [BUILD_DIR]        default BUILD_DIR: dist/Inkwell
#
# Puts the app in $XDG_DATA_HOME/inkwell-app/app (~/.local/share/inkwell-app/app), a launcher in
# ~/.local/bin/inkwell, the menu entry and icons under ~/.local/share, and an uninstall
# script beside the app. Your chats and settings live elsewhere and are never touched.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-$root/dist/Inkwell}
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
prefix=$data_home/inkwell-app
bin_dir=$HOME/.local/bin
apps=$data_home/applications
icons=$data_home/icons/hicolor

if [ ! -x "$build/Inkwell" ]; then
    echo "install.sh: no build at $build (run: make package)" >&2
    exit 1
fi

mkdir -p "$prefix" "$bin_dir" "$apps" "$icons/256x256/apps" "$icons/scalable/apps"
# Copy beside the old version, then swap, so a failed copy leaves the old app working.
rm -rf "$prefix/app.new"
cp -a "$build" "$prefix/app.new"
rm -rf "$prefix/app.old"
[ -d "$prefix/app" ] && mv "$prefix/app" "$prefix/app.old"
mv "$prefix/app.new" "$prefix/app"
rm -rf "$prefix/app.old"

ln -sf "$prefix/app/Inkwell" "$bin_dir/inkwell"
icon_dir=$prefix/app/_internal/resources/icons
cp "$icon_dir/inkwell-256.png" "$icons/256x256/apps/inkwell.png"
cp "$icon_dir/inkwell.svg" "$icons/scalable/apps/inkwell.svg"
sed "s|@EXEC@|$prefix/app/Inkwell|g" "$prefix/app/_internal/resources/inkwell.desktop" > "$apps/inkwell.desktop"
chmod 644 "$apps/inkwell.desktop"

cat > "$prefix/uninstall.sh" <<UNINSTALL
#!/bin/sh
# Remove the Inkwell app and its menu entry. Your chats and drafts are kept (Inkwell's
# data folder; delete it yourself if you want them gone).
set -eu
rm -f "$apps/inkwell.desktop" "$icons/256x256/apps/inkwell.png" "$icons/scalable/apps/inkwell.svg"
[ "\$(readlink "$bin_dir/inkwell" 2>/dev/null)" = "$prefix/app/Inkwell" ] && rm -f "$bin_dir/inkwell"
rm -rf "$prefix/app" "$prefix/uninstall.sh"
rmdir "$prefix" 2>/dev/null || true
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" || true
echo "Inkwell was removed. Your chats and drafts are still in your data folder."
UNINSTALL
chmod 755 "$prefix/uninstall.sh"

command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$icons" || true
echo "Inkwell is installed: find it in your applications menu, or run $bin_dir/inkwell"
echo "To remove it: $prefix/uninstall.sh"

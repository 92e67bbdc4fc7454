// The maintainer-script snippets for a systemd unit, as dh_installsystemd writes them (enable on
// install, restart on upgrade, stop on remove, mask on remove, purge on purge). Without systemd
// as PID 1 (containers, chroots, the tests) only the enablement state is recorded.
export function systemdSnippets(unit) {
  return {
    '#SYSTEMD_POSTINST#': `if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ]; then
	# Only removes masks that deb-systemd-helper made on removal.
	deb-systemd-helper unmask '${unit}' >/dev/null || true
	# was-enabled is true for a new install, so it gets enabled.
	if deb-systemd-helper --quiet was-enabled '${unit}'; then
		deb-systemd-helper enable '${unit}' >/dev/null || true
	else
		deb-systemd-helper update-state '${unit}' >/dev/null || true
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		if [ -n "$2" ]; then action=restart; else action=start; fi
		deb-systemd-invoke "$action" '${unit}' >/dev/null || true
	fi
fi`,
    '#SYSTEMD_PRERM#': `if [ -d /run/systemd/system ] && [ "$1" = "remove" ]; then
	deb-systemd-invoke stop '${unit}' >/dev/null || true
fi`,
    '#SYSTEMD_POSTRM#': `if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = "remove" ] && command -v deb-systemd-helper >/dev/null; then
	deb-systemd-helper mask '${unit}' >/dev/null || true
fi
if [ "$1" = "purge" ] && command -v deb-systemd-helper >/dev/null; then
	deb-systemd-helper purge '${unit}' >/dev/null || true
	deb-systemd-helper unmask '${unit}' >/dev/null || true
fi`,
  };
}

# Sourced by scripts/setup.sh: finds the Debian archive this machine's apt uses, so that packages from another
# suite (trixie's xsimd headers) come through the same mirror or proxy.
#
#   debian_source_for_suite SUITE [APT_ETC_DIR]
#
# prints a one-line apt source ("deb [signed-by=...] URI SUITE main") built from the first `deb` entry of the
# Debian main archive in APT_ETC_DIR (default /etc/apt), read in apt's order: sources.list, then
# sources.list.d/*.list (one-line format) and *.sources (deb822 format) by file name. An entry belongs to the main
# archive when its suite is a Debian release (the machine's codename, a known codename or stable/testing/unstable,
# optionally with -updates, -backports or -proposed-updates), it has the main component, and it is not the
# security archive. Its URI and signed-by keyring are kept and its suite swapped for SUITE. Without such an entry
# it prints the deb.debian.org line.

debian_source_for_suite() {
  local suite="$1" etc="${2:-/etc/apt}" codename="" file
  if [[ -r /etc/os-release ]]; then codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"; fi
  local files=()
  [[ -f "$etc/sources.list" ]] && files+=("$etc/sources.list")
  if [[ -d "$etc/sources.list.d" ]]; then
    while IFS= read -r file; do files+=("$file"); done < <(
      LC_ALL=C find "$etc/sources.list.d" -maxdepth 1 -type f \( -name '*.list' -o -name '*.sources' \) | LC_ALL=C sort)
  fi
  local entry=""
  if ((${#files[@]})); then
    entry="$(LC_ALL=C awk -v codename="$codename" '
      function debian_suite(s) {
        sub(/\/$/, "", s)
        if (s ~ /-security$/ || s ~ /\/updates$/) return 0
        sub(/-(updates|backports|proposed-updates)$/, "", s)
        return s != "" && (s == codename || s ~ /^(buster|bullseye|bookworm|trixie|forky|duke|sid|oldoldstable|oldstable|stable|testing|unstable)$/)
      }
      function usable(uri) { return uri ~ /^(https?|ftp|file|mirror(\+[a-z]+)?):/ && uri !~ /debian-security/ }
      # One candidate: the first Debian main-archive suite of an entry, printed as "URI<TAB>options".
      function consider(types, uris, suites, components, signed_by, trusted,    n, i, s, u, opts) {
        if (found || (" " types " ") !~ / deb / || (" " components " ") !~ / main /) return
        split(uris, u, " ")
        if (!usable(u[1])) return
        n = split(suites, s, " ")
        for (i = 1; i <= n; ++i) {
          if (!debian_suite(s[i])) continue
          opts = ""
          if (signed_by ~ /^\//) opts = "signed-by=" signed_by
          if (tolower(trusted) == "yes") opts = opts (opts == "" ? "" : " ") "trusted=yes"
          print u[1] "\t" opts
          found = 1
          return
        }
      }
      function flush_stanza() {
        if (enabled != "no") consider(f["types"], f["uris"], f["suites"], f["components"], f["signed-by"], f["trusted"])
        delete f
        enabled = ""
        last = ""
      }
      FNR == 1 { if (deb822) flush_stanza(); deb822 = FILENAME ~ /\.sources$/ }
      deb822 {
        if ($0 ~ /^#/) next
        if ($0 ~ /^[ \t]*$/) { flush_stanza(); next }
        if ($0 ~ /^[ \t]/) { if (last != "") f[last] = f[last] "\n" $0; next }  # continuation (inline keys)
        key = tolower($0); sub(/:.*/, "", key)
        value = $0; sub(/^[^:]*:[ \t]*/, "", value); sub(/[ \t]+$/, "", value)
        if (key == "enabled") enabled = tolower(value)
        f[key] = value
        last = key
        next
      }
      {
        line = $0; sub(/#.*/, "", line)
        n = split(line, w, /[ \t]+/)
        i = 1
        while (i <= n && w[i] == "") ++i
        if (i > n || w[i] != "deb") next
        ++i
        signed_by = ""; trusted = ""
        if (substr(w[i], 1, 1) == "[") {
          options = ""
          while (i <= n) {
            options = options " " w[i]
            if (w[i] ~ /\]$/) { ++i; break }
            ++i
          }
          gsub(/[\[\]]/, " ", options)
          m = split(options, o, /[ \t]+/)
          for (j = 1; j <= m; ++j) {
            if (o[j] ~ /^signed-by=/) signed_by = substr(o[j], 11)
            if (o[j] ~ /^trusted=/) trusted = substr(o[j], 9)
          }
        }
        uri = w[i]; suite = w[i + 1]; components = ""
        for (j = i + 2; j <= n; ++j) components = components " " w[j]
        consider("deb", uri, suite, components, signed_by, trusted)
      }
      END { if (deb822) flush_stanza() }
    ' "${files[@]}" 2>/dev/null || true)"
  fi
  local uri="${entry%%$'\t'*}" opts="${entry#*$'\t'}"
  if [[ -z "$entry" || -z "$uri" ]]; then
    uri="http://deb.debian.org/debian"
    opts=""
  fi
  if [[ -n "$opts" ]]; then
    echo "deb [$opts] $uri $suite main"
  else
    echo "deb $uri $suite main"
  fi
}

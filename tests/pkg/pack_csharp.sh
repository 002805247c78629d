#!/usr/bin/env bash
# The C# binding as a user installs it: `dotnet pack` with the native library, then a console
# project that references the package from a local source and runs with no library path set: the
# resolver must find runtimes/linux-x64/native/libliterllm.so.0 from the package.
#   tests/pkg/pack_csharp.sh LIBDIR     LIBDIR holds libliterllm.so.0
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lib=$(cd "$1" && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
unset LITERLLM_LIBRARY_PATH LD_LIBRARY_PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dotnet pack "$root/bindings/csharp/src/LiterLlm" -c Release -p:LiterLlmNativeDir="$lib" -o "$tmp/nupkg" \
  --artifacts-path "$tmp/art" -v q -nologo >/dev/null
pkg=$(ls "$tmp"/nupkg/LiterLlm.*.nupkg | grep -v snupkg | head -1)
version=$(basename "$pkg" .nupkg); version=${version#LiterLlm.}
python3 - "$pkg" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for need in ("runtimes/linux-x64/native/libliterllm.so.0", "lib/net10.0/LiterLlm.dll"):
    if need not in names:
        sys.exit(f"pack_csharp: {need} is not in the package: {names}")
PY
mkdir "$tmp/app"
cat > "$tmp/app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="literllm" value="$tmp/nupkg" />
    <add key="local" value="/opt/nuget/packages" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
  </packageSources>
  <config><add key="globalPackagesFolder" value="$tmp/packages" /></config>
</configuration>
XML
cat > "$tmp/app/app.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="LiterLlm" Version="$version" />
  </ItemGroup>
</Project>
XML
cat > "$tmp/app/Program.cs" <<'CS'
using LiterLlm;
using var client = LiterLlmClient.Create("{\"providers\":{\"openai\":{\"api_key\":\"sk-pack-test-0123456789\"}}}");
var p = client.Preview(new ChatRequest { Model = "openai/gpt-4o-mini", Messages = { ChatMessage.User("hi") } });
if (!p.Url.StartsWith("https://api.openai.com/")) throw new Exception("preview url: " + p.Url);
if (p.Body.Contains("0123456789") || p.Headers.Values.Any(v => v.Contains("0123456789")))
    throw new Exception("the key shows in the preview");
var loaded = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
    .Where(f => f.Length >= 6 && f[5].EndsWith("/libliterllm.so.0")).Select(f => f[5]).FirstOrDefault();
Console.WriteLine(loaded);
Console.WriteLine(LiterLlmLibrary.Version);
CS
out=$(cd "$tmp/app" && dotnet run -c Release 2>&1)
loaded=$(tail -2 <<<"$out" | head -1)
got=$(tail -1 <<<"$out")
case $loaded in
  */runtimes/linux-x64/native/libliterllm.so.0) ;;
  *) echo "pack_csharp: the app loaded '$loaded', not the packaged library; it said: $out" >&2; exit 1 ;;
esac
v() { sed -n "s/^#define LLM_VERSION_$1 \\([0-9]*\\)$/\\1/p" "$root/include/literllm.h"; }
want=$(v MAJOR).$(v MINOR).$(v PATCH)
[ "$got" = "$want" ] || { echo "pack_csharp: the app printed '$got', want '$want'" >&2; exit 1; }
echo "pack_csharp: $(basename "$pkg") restored and run with its packaged native library $loaded (literllm $got)"

using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LiterLlm.Native;

namespace LiterLlm;

/// <summary>
/// Finds libliterllm.so.0: the LITERLLM_LIBRARY_PATH environment variable (a file or a
/// directory), then the package's runtimes/&lt;rid&gt;/native directory, then the system's search path.
/// </summary>
public static class LiterLlmLibrary
{
    /// <summary>The environment variable naming the native library (a file or a directory).</summary>
    public const string PathVariable = "LITERLLM_LIBRARY_PATH";

    const string SoName = "libliterllm.so.0";

#pragma warning disable CA2255 // a library's resolver must be in place before its first P/Invoke
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(LiterLlmLibrary).Assembly, Resolve);

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != NativeMethods.Library)
            return IntPtr.Zero;
        foreach (var candidate in Candidates())
        {
            if (NativeLibrary.TryLoad(candidate, out var h))
                return h;
        }
        return IntPtr.Zero; // the runtime then reports DllNotFoundException
    }

    static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(env))
        {
            // An explicit path is the only candidate: loading another library silently would hide a mistake.
            yield return Directory.Exists(env) ? Path.Combine(env, SoName) : env;
            yield break;
        }
        var rid = RuntimeInformation.RuntimeIdentifier;
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        var dirs = new List<string> { AppContext.BaseDirectory };
#pragma warning disable IL3000 // empty in a single-file app, which then uses AppContext.BaseDirectory
        var asmDir = Path.GetDirectoryName(typeof(LiterLlmLibrary).Assembly.Location);
#pragma warning restore IL3000
        if (!string.IsNullOrEmpty(asmDir) && asmDir != AppContext.BaseDirectory.TrimEnd('/'))
            dirs.Add(asmDir);
        foreach (var dir in dirs)
        {
            foreach (var r in new[] { rid, "linux-" + arch })
            {
                var p = Path.Combine(dir, "runtimes", r, "native", SoName);
                if (File.Exists(p))
                    yield return p;
            }
            var local = Path.Combine(dir, SoName);
            if (File.Exists(local))
                yield return local;
        }
        yield return SoName;
        yield return "libliterllm.so";
    }

    /// <summary>The loaded library's version ("MAJOR.MINOR.PATCH").</summary>
    public static unsafe string Version => Utf8.Read(NativeMethods.llm_version())!;

    /// <summary>The loaded library's version number (MAJOR * 10000 + MINOR * 100 + PATCH).</summary>
    public static uint VersionNumber => NativeMethods.llm_version_number();

    static int _checked;

    /// <summary>Fails when the loaded library's major version is not the one this binding was generated from.</summary>
    internal static void EnsureCompatible()
    {
        if (Volatile.Read(ref _checked) != 0)
            return;
        var n = VersionNumber;
        if (n / 10000 != LlmConstants.LLM_VERSION_MAJOR || n < LlmConstants.LLM_VERSION_NUMBER)
            throw new InvalidOperationException(
                $"libliterllm {Version} is loaded; this binding needs {LlmConstants.LLM_VERSION_MAJOR}.x at least {LlmConstants.LLM_VERSION_NUMBER}");
        Volatile.Write(ref _checked, 1);
    }
}

using System.Diagnostics;

namespace LiterLlm.Tests;

/// <summary>The local upstream (literllm-upstream) as a child process for the whole test run.</summary>
public sealed class Upstream : IDisposable
{
    readonly Process _proc;
    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}/v1";

    public Upstream()
    {
        var exe = Environment.GetEnvironmentVariable("LITERLLM_UPSTREAM");
        if (string.IsNullOrEmpty(exe))
            exe = FindOnPath("literllm-upstream")
                ?? throw new InvalidOperationException("set LITERLLM_UPSTREAM to the literllm-upstream program");
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--no-record");
        psi.ArgumentList.Add("--exit-on-stdin-eof");
        _proc = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + exe);
        var line = _proc.StandardOutput.ReadLine();
        if (line == null || !line.StartsWith("LISTENING "))
            throw new InvalidOperationException("literllm-upstream said: " + line);
        Port = int.Parse(line.Substring("LISTENING ".Length).Trim());
    }

    static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var p = Path.Combine(dir, name);
            if (File.Exists(p))
                return p;
        }
        return null;
    }

    public void Dispose()
    {
        try
        {
            _proc.StandardInput.Close(); // --exit-on-stdin-eof
            if (!_proc.WaitForExit(5000))
                _proc.Kill();
        }
        catch (InvalidOperationException) { }
        _proc.Dispose();
    }
}

[CollectionDefinition("upstream")]
public sealed class UpstreamCollection : ICollectionFixture<Upstream> { }

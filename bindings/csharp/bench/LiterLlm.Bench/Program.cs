// Interleaved benchmark of the C# binding against the local upstream:
//   c_chat          llm_chat_e through the raw layer, pre-encoded request: the C call
//   c_chat_json     the same plus llm_response_json (what the binding reads)
//   cs_chat         LiterLlmClient.Chat (typed request and response)
//   cs_chat_ct      LiterLlmClient.Chat with a CancellationToken (a cancel token per call, never triggered)
//   cs_chat_json    LiterLlmClient.ChatJson (raw JSON text in and out)
//   cs_chat_async   LiterLlmClient.ChatAsync, awaited one at a time
//   cs_chat_async_inline  the same on a client made with InlineCompletions (tasks completed on the I/O thread)
//   openai_sdk      the official OpenAI SDK's ChatClient.CompleteChat, same upstream
//   c_async/1       llm_chat_async_e from the raw layer, one in flight: the C async call
//   c_async_pool/1  c_async/1 with each answer handed to the thread pool, which starts the next call (JSON
//                   unread): the floor for an async binding whose continuations stay off the I/O thread
//   .../16          the same with 16 calls in flight (tasks; raw C: a sliding window of llm_chat_async_e)
//   x_..._2loops/16 c_async/16, cs_chat_async/16 on a client with two event loops ("io_threads": 2; only with --only)
// Each round runs a slice of every variant in a fresh random order; ratios are per round (median).
// Then RSS over 10,000 calls of cs_chat and of cs_chat_async.
//
//   LITERLLM_UPSTREAM=... dotnet run -c Release -- [--rounds=N] [--slice=CALLS] [--warmup=N] [--rss-calls=N]
//                                                  [--only=variant,...] [--micro] [--settle-ms=50] [--slice-warmup=50]
// --micro: the binding's own work per call without I/O (serialize, parse), and managed bytes allocated per call.
using System.ClientModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using LiterLlm;
using LiterLlm.Native;
using OpenAI;
using OAI = OpenAI.Chat;

static class Bench
{
    static int Arg(string[] args, string name, int def) =>
        args.Select(a => a.StartsWith("--" + name + "=") ? int.Parse(a[(name.Length + 3)..]) : (int?)null).FirstOrDefault(v => v != null) ?? def;

    static async Task<int> Main(string[] args)
    {
        int rounds = Arg(args, "rounds", 15), slice = Arg(args, "slice", 200), rssCalls = Arg(args, "rss-calls", 10000);
        var exe = Environment.GetEnvironmentVariable("LITERLLM_UPSTREAM") ?? "literllm-upstream";
        var psi = new ProcessStartInfo(exe) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("--no-record");
        psi.ArgumentList.Add("--exit-on-stdin-eof");
        using var up = Process.Start(psi)!;
        var port = int.Parse(up.StandardOutput.ReadLine()!.Split(' ')[1]);
        var baseUrl = $"http://127.0.0.1:{port}/v1";

        var config = "{\"max_retries\":0,\"providers\":{\"openai\":{\"base_url\":\"" + baseUrl + "\",\"api_key\":\"sk-bench-0123456789\"}}}";
        using var client = LiterLlmClient.Create(config);
        using var inlineClient = LiterLlmClient.Create(config, new LiterLlmClientOptions { InlineCompletions = true });
        // Two event loops (io_threads 2) instead of the default one: the x_*_2loops variants.
        using var twoLoopClient = LiterLlmClient.Create(config[..^1] + ",\"io_threads\":2}");
        var req = new ChatRequest { Model = "openai/gpt-4o-mini", Messages = { LiterLlm.ChatMessage.User("hello bench") } };
        var reqBytes = LiterLlmClient.Serialize(req);
        var sdk = new OAI.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-bench-0123456789"),
            new OpenAIClientOptions { Endpoint = new Uri(baseUrl) });
        var sdkMessages = new List<OAI.ChatMessage> { new OAI.UserChatMessage("hello bench") };

        if (args.Contains("--micro"))
        {
            // The binding's own work per call, without I/O.
            var json = System.Text.Encoding.UTF8.GetBytes(client.ChatJson(System.Text.Encoding.UTF8.GetString(reqBytes, 0, reqBytes.Length - 1)));
            for (var round = 0; round < 3; round++)
            {
                var sw = Stopwatch.StartNew();
                for (var i = 0; i < 100000; i++) LiterLlmClient.Serialize(req);
                var ser = sw.Elapsed.TotalMicroseconds / 100000;
                sw.Restart();
                for (var i = 0; i < 100000; i++) System.Text.Json.JsonSerializer.Deserialize(json, LiterLlmJson.Default.ChatResponse);
                var par = sw.Elapsed.TotalMicroseconds / 100000;
                Console.WriteLine($"serialize request {ser:F2} us, parse response {par:F2} us ({json.Length} bytes)");
            }
            // Managed bytes allocated per call (all threads), after warm-up.
            var jsonReq = System.Text.Encoding.UTF8.GetString(reqBytes, 0, reqBytes.Length - 1);
            foreach (var (name, call) in new (string, Func<Task>)[]
            {
                ("cs_chat", () => { client.Chat(req); return Task.CompletedTask; }),
                ("cs_chat_json", () => { client.ChatJson(jsonReq); return Task.CompletedTask; }),
                ("cs_chat_async", async () => await client.ChatAsync(req)),
                ("cs_chat_json_async", async () => await client.ChatJsonAsync(jsonReq)),
            })
            {
                for (var i = 0; i < 2000; i++) await call();
                var b0 = GC.GetTotalAllocatedBytes(precise: true);
                var g0 = GC.CollectionCount(0);
                for (var i = 0; i < 2000; i++) await call();
                Console.WriteLine($"allocated {name}: {(GC.GetTotalAllocatedBytes(precise: true) - b0) / 2000.0:F0} bytes/call, " +
                    $"{(GC.CollectionCount(0) - g0) / 2.0:F1} gen0 GCs per 1000 calls");
            }
            up.StandardInput.Close();
            return 0;
        }

        using var cts = new CancellationTokenSource(); // cs_chat_ct's token, never cancelled
        var variants = new (string Name, Func<int, Task> Run)[]
        {
            ("c_chat", n => { for (var i = 0; i < n; i++) RawChat(client, reqBytes, false); return Task.CompletedTask; }),
            ("c_chat_json", n => { for (var i = 0; i < n; i++) RawChat(client, reqBytes, true); return Task.CompletedTask; }),
            ("x_ser_c_chat", n => { for (var i = 0; i < n; i++) RawChat(client, LiterLlmClient.Serialize(req), true); return Task.CompletedTask; }),
            ("x_c_chat_parse", n => { for (var i = 0; i < n; i++) RawChatParse(client, reqBytes); return Task.CompletedTask; }),
            ("cs_chat_json", n => { var j = System.Text.Encoding.UTF8.GetString(reqBytes, 0, reqBytes.Length - 1); for (var i = 0; i < n; i++) client.ChatJson(j); return Task.CompletedTask; }),
            ("cs_chat", n => { for (var i = 0; i < n; i++) Check(client.Chat(req).Text); return Task.CompletedTask; }),
            ("cs_chat_ct", n => { for (var i = 0; i < n; i++) Check(client.Chat(req, cts.Token).Text); return Task.CompletedTask; }),
            ("cs_chat_async", async n => { for (var i = 0; i < n; i++) Check((await client.ChatAsync(req)).Text); }),
            // Inline, the last await resumes on the I/O thread, where the next variant's blocking calls would
            // fail: Task.Yield moves back to the pool.
            ("cs_chat_async_inline", async n => { for (var i = 0; i < n; i++) Check((await inlineClient.ChatAsync(req)).Text); await Task.Yield(); }),
            ("openai_sdk", n => { for (var i = 0; i < n; i++) Check(sdk.CompleteChat(sdkMessages).Value.Content[0].Text); return Task.CompletedTask; }),
            ("c_async/1", n => RawWindow(client, reqBytes, n, 1)),
            ("c_async/16", n => RawWindow(client, reqBytes, n, 16)),
            ("c_async_pool/1", n => RawWindow(client, reqBytes, n, 1, pool: true)),
            ("c_async_pool/16", n => RawWindow(client, reqBytes, n, 16, pool: true)),
            ("cs_chat_async/16", n => InFlight(n, 16, async () => Check((await client.ChatAsync(req)).Text))),
            ("cs_chat_async_inline/16", async n => { await InFlight(n, 16, async () => Check((await inlineClient.ChatAsync(req)).Text)); await Task.Yield(); }),
            ("x_c_async_2loops/16", n => RawWindow(twoLoopClient, reqBytes, n, 16)),
            ("x_cs_chat_async_2loops/16", n => InFlight(n, 16, async () => Check((await twoLoopClient.ChatAsync(req)).Text))),
            ("openai_sdk_async/16", n => InFlight(n, 16, async () => Check((await sdk.CompleteChatAsync(sdkMessages)).Value.Content[0].Text))),
        };

        var only = args.FirstOrDefault(a => a.StartsWith("--only="))?["--only=".Length..].Split(',');
        // x_* variants split cs_chat's cost (typed request serialized / typed response parsed): only on request.
        variants = variants.Where(v => only != null ? only.Contains(v.Name) : !v.Name.StartsWith("x_")).ToArray();
        foreach (var v in variants) // warm-up: JIT tiers, connections
            await v.Run(Arg(args, "warmup", 1000));

        var wall = variants.ToDictionary(v => v.Name, _ => new List<double>());
        var cpu = variants.ToDictionary(v => v.Name, _ => new List<double>());
        var rng = new Random(42);
        var settleMs = Arg(args, "settle-ms", 50);
        var sliceWarmup = Arg(args, "slice-warmup", 50);
        var proc = Process.GetCurrentProcess();
        for (var r = 0; r < rounds; r++)
        {
            foreach (var v in variants.OrderBy(_ => rng.Next()))
            {
                // The thread pool's workers spin for a while after the async variants; each variant starts from
                // a quiet process, or the one after an async variant pays for its spinning (wall and CPU).
                Thread.Sleep(settleMs);
                // Then a few calls unmeasured: each variant is measured in its own steady state (its pool
                // threads awake, its connections in use), not while it wakes them.
                if (sliceWarmup > 0) await v.Run(sliceWarmup);
                proc.Refresh();
                var cpu0 = proc.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                await v.Run(slice);
                var el = sw.Elapsed;
                proc.Refresh();
                wall[v.Name].Add(el.TotalMicroseconds / slice);
                cpu[v.Name].Add((proc.TotalProcessorTime - cpu0).TotalMicroseconds / slice);
            }
        }

        Console.WriteLine($"rounds={rounds} slice={slice} calls/variant/round; microseconds per call (median over rounds, min)");
        Console.WriteLine($"{"variant",-25}{"wall us",10}{"min",10}{"cpu us",10}");
        foreach (var v in variants)
            Console.WriteLine($"{v.Name,-25}{Median(wall[v.Name]),10:F1}{wall[v.Name].Min(),10:F1}{Median(cpu[v.Name]),10:F1}");
        void Ratio(string a, string b, Dictionary<string, List<double>> d, string what)
        {
            if (d.ContainsKey(a) && d.ContainsKey(b))
                Console.WriteLine($"{what} {a} / {b}: median {Median(d[a].Zip(d[b], (x, y) => x / y).ToList()):F2}  (min {d[a].Zip(d[b], (x, y) => x / y).Min():F2}, max {d[a].Zip(d[b], (x, y) => x / y).Max():F2})");
        }
        Ratio("cs_chat", "c_chat", wall, "wall");
        Ratio("cs_chat_ct", "c_chat", wall, "wall");
        Ratio("cs_chat_ct", "cs_chat", wall, "wall");
        Ratio("cs_chat", "c_chat_json", wall, "wall");
        Ratio("cs_chat_async", "c_chat_json", wall, "wall");
        Ratio("cs_chat_async", "c_async/1", wall, "wall");
        Ratio("cs_chat_async/16", "c_async/16", wall, "wall");
        Ratio("cs_chat_async", "c_async_pool/1", wall, "wall");
        Ratio("cs_chat_async/16", "c_async_pool/16", wall, "wall");
        Ratio("cs_chat", "openai_sdk", wall, "wall");
        Ratio("cs_chat_async/16", "openai_sdk_async/16", wall, "wall");
        Ratio("cs_chat", "openai_sdk", cpu, "cpu ");
        Ratio("cs_chat_async", "openai_sdk", cpu, "cpu ");
        Ratio("cs_chat_async/16", "openai_sdk_async/16", cpu, "cpu ");
        Ratio("cs_chat_async", "c_async_pool/1", cpu, "cpu ");
        Ratio("cs_chat_async/16", "c_async_pool/16", cpu, "cpu ");
        Ratio("cs_chat_async_inline", "c_async/1", wall, "wall");
        Ratio("cs_chat_async_inline/16", "c_async/16", wall, "wall");
        Ratio("cs_chat_async_inline", "cs_chat_async", wall, "wall");
        Ratio("cs_chat_async_inline/16", "openai_sdk_async/16", wall, "wall");
        Ratio("cs_chat_async_inline", "openai_sdk", cpu, "cpu ");
        Ratio("cs_chat_async_inline/16", "openai_sdk_async/16", cpu, "cpu ");
        Ratio("x_cs_chat_async_2loops/16", "cs_chat_async/16", wall, "wall");
        Ratio("x_cs_chat_async_2loops/16", "cs_chat_async/16", cpu, "cpu ");
        Ratio("x_c_async_2loops/16", "c_async/16", wall, "wall");
        Ratio("x_c_async_2loops/16", "c_async/16", cpu, "cpu ");
        Ratio("x_cs_chat_async_2loops/16", "openai_sdk_async/16", wall, "wall");
        Ratio("x_cs_chat_async_2loops/16", "openai_sdk_async/16", cpu, "cpu ");

        foreach (var (name, run) in variants.Where(v => v.Name is "cs_chat" or "cs_chat_async" && rssCalls > 0))
        {
            await run(1000);
            GC.Collect();
            var start = Rss();
            await run(rssCalls);
            GC.Collect();
            Console.WriteLine($"rss {name}: {start / 1024} KiB before, {Rss() / 1024} KiB after {rssCalls} calls");
        }
        up.StandardInput.Close();
        up.WaitForExit(5000);
        return 0;
    }

    static void Check(string? text)
    {
        if (text != "Hello from the local upstream. You said: hello bench")
            throw new InvalidOperationException("unexpected answer: " + text);
    }

    static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    static long Rss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    static async Task InFlight(int n, int width, Func<Task> call)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, width).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < n)
                await call();
        }));
    }

    // The C call with nothing of the binding around it.
    static unsafe void RawChat(LiterLlmClient client, byte[] request, bool json)
    {
        var h = client.RawHandle;
        llm_response_t* r;
        llm_error_t* e;
        fixed (byte* p = request)
        {
            if (NativeMethods.llm_chat_e(h, p, &r, &e) != LlmStatus.Ok)
                throw new InvalidOperationException("llm_chat failed");
        }
        if (json && NativeMethods.llm_response_json(r) == null)
            throw new InvalidOperationException("llm_response_json failed");
        NativeMethods.llm_response_free(r);
    }

    static unsafe void RawChatParse(LiterLlmClient client, byte[] request)
    {
        llm_response_t* r;
        llm_error_t* e;
        fixed (byte* p = request)
        {
            if (NativeMethods.llm_chat_e(client.RawHandle, p, &r, &e) != LlmStatus.Ok)
                throw new InvalidOperationException("llm_chat failed");
        }
        Check(LiterLlmClient.ParseResponse(r).Text);
        NativeMethods.llm_response_free(r);
    }

    sealed class Window
    {
        public int Left, Started, Total;
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public byte[] Request = Array.Empty<byte>();
        public GCHandle Pin;
        public IntPtr Client;
        public bool Pool;
    }

    // A sliding window of llm_chat_async_e refilled from the done callback, as bench_chat does in C.
    static unsafe Task RawWindow(LiterLlmClient client, byte[] request, int n, int width, bool pool = false)
    {
        var w = new Window { Left = n, Total = n, Request = request, Client = (IntPtr)client.RawHandle, Pool = pool };
        w.Pin = GCHandle.Alloc(request, GCHandleType.Pinned);
        var gch = GCHandle.Alloc(w);
        for (var i = 0; i < width && i < n; i++)
            StartOne(w, gch);
        return w.Done.Task.ContinueWith(_ => { w.Pin.Free(); gch.Free(); });
    }

    static unsafe void StartOne(Window w, GCHandle gch)
    {
        if (Interlocked.Increment(ref w.Started) > w.Total)
            return; // the window is full (pool threads may race to refill it)
        var st = NativeMethods.llm_chat_async_e((llm_client_t*)w.Client, (byte*)w.Pin.AddrOfPinnedObject(),
            new llm_chat_done_e_cb(&OnDone), (void*)GCHandle.ToIntPtr(gch), null, null);
        if (st != LlmStatus.Ok)
            throw new InvalidOperationException("llm_chat_async failed");
    }

    [System.Runtime.InteropServices.UnmanagedCallersOnly]
    static unsafe void OnDone(LlmStatus status, llm_response_t* r, llm_error_t* e, void* ud)
    {
        var gch = GCHandle.FromIntPtr((IntPtr)ud);
        var w = (Window)gch.Target!;
        NativeMethods.llm_response_free(r);
        if (w.Pool)
            ThreadPool.UnsafeQueueUserWorkItem(static g => Next((Window)g.Target!, g), gch, preferLocal: false);
        else
            Next(w, gch);
    }

    static void Next(Window w, GCHandle gch)
    {
        if (Interlocked.Decrement(ref w.Left) == 0)
            w.Done.TrySetResult();
        else
            StartOne(w, gch);
    }
}

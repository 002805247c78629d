//! Per-call cost of the Rust binding against the C calls it wraps, on the
//! local upstream, the variants interleaved round by round; then RSS over
//! 10,000 binding calls.
//!
//!     cargo run --offline --release -p literllm-bench [-- ROUNDS CALLS_PER_ROUND]
//!     valgrind --tool=callgrind target/release/literllm-bench --profile=VARIANT:N
//!
//! Every round runs each variant once, in a fresh pseudo-random order; a
//! variant's ratio to its C row is taken per round, and the median of those is
//! reported (this VM is noisy: variants share each moment's load). With
//! `--profile=VARIANT:N` (VARIANT the row's number) it runs that variant N
//! times after warm-up and exits: under callgrind, the instruction count per
//! call is the difference of two runs over the difference of their N.
//!
//! Needs LITERLLM_UPSTREAM or pkg-config's prefix/bin/literllm-upstream.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io::{BufRead, BufReader};
use std::os::raw::c_void;
use std::process::{Command, Stdio};
use std::ptr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use literllm::{ChatRequest, Client};
use literllm_sys as sys;

const IN_FLIGHT: usize = 16;

fn upstream() -> (std::process::Child, std::process::ChildStdin, u16) {
    let path = std::env::var("LITERLLM_UPSTREAM").unwrap_or_else(|_| {
        let o = Command::new("pkg-config").args(["--variable=prefix", "literllm"]).output().expect("pkg-config");
        format!("{}/bin/literllm-upstream", String::from_utf8_lossy(&o.stdout).trim())
    });
    let mut child = Command::new(&path)
        .args(["--no-record", "--exit-on-stdin-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let port = line.trim().strip_prefix("LISTENING ").unwrap().parse().unwrap();
    std::thread::spawn(move || {
        let mut s = String::new();
        while out.read_line(&mut s).map(|n| n > 0).unwrap_or(false) {
            s.clear();
        }
    });
    (child, stdin, port)
}

/// The C side, called through literllm-sys directly.
struct CClient(*mut sys::llm_client_t);
// SAFETY: a client may be shared by any number of threads.
unsafe impl Send for CClient {}
// SAFETY: as above.
unsafe impl Sync for CClient {}

impl CClient {
    fn new(config: &str) -> CClient {
        let c = CString::new(config).unwrap();
        let mut out = ptr::null_mut();
        // SAFETY: valid arguments.
        let st = unsafe { sys::llm_client_new_e(c.as_ptr(), &mut out, ptr::null_mut()) };
        assert_eq!(st, sys::LLM_OK);
        CClient(out)
    }

    /// llm_chat_e, the response's JSON read (as the binding does), free.
    fn chat(&self, req: &CStr) -> usize {
        let mut out = ptr::null_mut();
        let mut err = ptr::null_mut();
        // SAFETY: live client, valid string, out pointers.
        unsafe {
            let st = sys::llm_chat_e(self.0, req.as_ptr(), &mut out, &mut err);
            assert_eq!(st, sys::LLM_OK);
            let n = CStr::from_ptr(sys::llm_response_json(out)).to_bytes().len();
            sys::llm_response_free(out);
            n
        }
    }

    /// `n` llm_chat_async_e calls at once; waits for all. With `hand_over`,
    /// the callback passes each response to the waiting thread, which reads
    /// and frees it (what a future does), waking it per answer.
    fn chat_async_batch(&self, req: &CStr, n: usize, hand_over: bool) {
        type Shared = (Mutex<(usize, Vec<usize>)>, Condvar, bool);
        let pending: Arc<Shared> = Arc::new((Mutex::new((n, Vec::new())), Condvar::new(), hand_over));
        unsafe extern "C" fn done(
            st: sys::llm_status,
            resp: *mut sys::llm_response_t,
            _e: *const sys::llm_error_t,
            ud: *mut c_void,
        ) {
            assert_eq!(st, sys::LLM_OK);
            // SAFETY: a response we own; ud is a leaked Arc clone.
            unsafe {
                let p = Arc::from_raw(ud as *const Shared);
                let mut g = p.0.lock().unwrap();
                g.0 -= 1;
                if p.2 {
                    g.1.push(resp as usize);
                    p.1.notify_one();
                } else {
                    let _ = CStr::from_ptr(sys::llm_response_json(resp)).to_bytes().len();
                    sys::llm_response_free(resp);
                    if g.0 == 0 {
                        p.1.notify_one();
                    }
                }
            }
        }
        for _ in 0..n {
            let ud = Arc::into_raw(pending.clone()) as *mut c_void;
            // SAFETY: live client; ud lives until the done callback.
            let st = unsafe {
                sys::llm_chat_async_e(self.0, req.as_ptr(), Some(done), ud, ptr::null_mut(), ptr::null_mut())
            };
            assert_eq!(st, sys::LLM_OK);
        }
        let mut g = pending.0.lock().unwrap();
        loop {
            while let Some(r) = g.1.pop() {
                let resp = r as *mut sys::llm_response_t;
                // SAFETY: handed over by the callback; ours now.
                unsafe {
                    let _ = CStr::from_ptr(sys::llm_response_json(resp)).to_bytes().len();
                    sys::llm_response_free(resp);
                }
            }
            if g.0 == 0 {
                break;
            }
            g = pending.1.wait(g).unwrap();
        }
    }
}

impl Drop for CClient {
    fn drop(&mut self) {
        // SAFETY: owned.
        unsafe { sys::llm_client_free(self.0) };
    }
}

fn cpu() -> Duration {
    // utime + stime in clock ticks (fields 14 and 15 of /proc/self/stat).
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // After ")": state is not numeric, so index 11/12 are utime/stime.
    let ticks = f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

#[derive(Default, Clone, Copy)]
struct Acc {
    wall: Duration,
    cpu: Duration,
    calls: u64,
}

fn measure(acc: &mut Acc, calls: u64, f: impl FnOnce()) {
    let (t, c) = (Instant::now(), cpu());
    f();
    acc.wall += t.elapsed();
    acc.cpu += cpu().saturating_sub(c);
    acc.calls += calls;
}

type Run<'a> = Box<dyn FnMut(u64) + 'a>;

/// One row: its name, the row it is compared with, and how it runs `n` calls.
struct Variant<'a> {
    name: &'static str,
    base: Option<usize>,
    run: Run<'a>,
}

/// `n` calls in batches of 16 started at once, each batch awaited with join_all.
fn join_batches<T, E: std::fmt::Debug, F: std::future::Future<Output = Result<T, E>>>(n: u64, start: impl Fn() -> F) {
    for _ in 0..n / IN_FLIGHT as u64 {
        let fs: Vec<F> = (0..IN_FLIGHT).map(|_| start()).collect();
        for r in futures::executor::block_on(futures::future::join_all(fs)) {
            r.unwrap();
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let profile: Option<(usize, u64)> = argv.iter().find_map(|a| {
        let (v, n) = a.strip_prefix("--profile=")?.split_once(':')?;
        Some((v.parse().ok()?, n.parse().ok()?))
    });
    let args: Vec<u64> = argv.iter().filter_map(|a| a.parse().ok()).collect();
    let rounds = args.first().copied().unwrap_or(10);
    let per_round = args.get(1).copied().unwrap_or(200);

    let (_child, _stdin, port) = upstream();
    let config = serde_json::json!({"max_retries": 0, "providers": {"openai": {
        "base_url": format!("http://127.0.0.1:{port}/v1"), "api_key": "sk-bench-0123456789"}}});
    let req = ChatRequest::new("openai/gpt-4o-mini", "bench");
    let req_json = serde_json::to_string(&req).unwrap();
    let req_c = CString::new(req_json.clone()).unwrap();

    let cc = Arc::new(CClient::new(&config.to_string()));
    let client = Client::new(&config).unwrap();
    // Warm both (connections, allocator).
    for _ in 0..200 {
        cc.chat(&req_c);
        client.chat(&req).unwrap();
    }

    let batch = IN_FLIGHT as u64;
    let threads = |n: u64, f: &(dyn Fn() + Sync)| {
        let per_thread = (n / batch).max(1);
        std::thread::scope(|s| {
            for _ in 0..IN_FLIGHT {
                s.spawn(|| (0..per_thread).for_each(|_| f()));
            }
        })
    };
    let (cc, client, req, req_c, req_json) = (&cc, &client, &req, &req_c, &req_json);
    let mut variants: Vec<Variant> = vec![
        Variant {
            name: "C llm_chat_e (sequential)",
            base: None,
            run: Box::new(move |n| {
                (0..n).for_each(|_| {
                    cc.chat(req_c);
                })
            }),
        },
        Variant {
            name: "Rust Client::chat typed (sequential)",
            base: Some(0),
            run: Box::new(move |n| {
                (0..n).for_each(|_| {
                    client.chat(req).unwrap();
                })
            }),
        },
        Variant {
            name: "Rust Client::chat_json raw (sequential)",
            base: Some(0),
            run: Box::new(move |n| {
                (0..n).for_each(|_| {
                    client.chat_json(req_json).unwrap();
                })
            }),
        },
        Variant {
            name: "C llm_chat_e, 16 threads",
            base: None,
            run: Box::new(move |n| {
                threads(n, &|| {
                    cc.chat(req_c);
                })
            }),
        },
        Variant {
            name: "Rust Client::chat, 16 threads",
            base: Some(3),
            run: Box::new(move |n| {
                threads(n, &|| {
                    client.chat(req).unwrap();
                })
            }),
        },
        Variant {
            name: "C llm_chat_async_e, 16 in flight",
            base: None,
            run: Box::new(move |n| (0..n / batch).for_each(|_| cc.chat_async_batch(req_c, IN_FLIGHT, false))),
        },
        Variant {
            name: "Rust chat_async, 16 in flight (futures join_all)",
            base: Some(5),
            run: Box::new(move |n| join_batches(n, || client.chat_async(req))),
        },
        Variant {
            name: "C llm_chat_async_e, 16 in flight, responses handed to the waiter",
            base: None,
            run: Box::new(move |n| (0..n / batch).for_each(|_| cc.chat_async_batch(req_c, IN_FLIGHT, true))),
        },
        Variant {
            name: "Rust chat_async_json raw, 16 in flight",
            base: Some(7),
            run: Box::new(move |n| join_batches(n, || client.chat_async_json(req_json))),
        },
        Variant {
            name: "Rust chat_async, 16 in flight, awaited in order",
            base: Some(7),
            run: Box::new(move |n| {
                (0..n / batch).for_each(|_| {
                    let fs: Vec<_> = (0..IN_FLIGHT).map(|_| client.chat_async(req)).collect();
                    futures::executor::block_on(async {
                        for f in fs {
                            f.await.unwrap();
                        }
                    })
                })
            }),
        },
    ];

    if let Some((v, n)) = profile {
        let var = variants.get_mut(v).unwrap_or_else(|| panic!("--profile: no variant {v}"));
        (var.run)(n.max(batch));
        println!("profiled {n} calls of {}", var.name);
        return;
    }

    let calls = per_round - per_round % batch;
    let mut acc = vec![Acc::default(); variants.len()];
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut order: Vec<usize> = (0..variants.len()).collect();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..rounds {
        // Fisher-Yates with a small LCG: a fresh order each round.
        for i in (1..order.len()).rev() {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            order.swap(i, (seed >> 33) as usize % (i + 1));
        }
        for &i in &order {
            let before = acc[i];
            measure(&mut acc[i], calls, || (variants[i].run)(calls));
            walls[i].push((acc[i].wall - before.wall).as_secs_f64() * 1e6 / calls as f64);
        }
    }
    println!(
        "{rounds} rounds of {calls} calls per variant, in a fresh order each round; per call: median wall µs, \
         CPU µs of this process (all threads, 10 ms ticks, whole run), median of the per-round wall ratios to its C row"
    );
    for (i, v) in variants.iter().enumerate() {
        let cpu = acc[i].cpu.as_secs_f64() * 1e6 / acc[i].calls as f64;
        let ratio = v.base.map(|b| {
            let r: Vec<f64> = walls[i].iter().zip(&walls[b]).map(|(x, y)| x / y).collect();
            let (lo, hi) = r.iter().fold((f64::MAX, 0f64), |(l, h), &x| (l.min(x), h.max(x)));
            format!("  wall {:.2}x ({lo:.2}-{hi:.2})", median(r.clone()))
        });
        println!("{:66} {:9.1} {cpu:9.1}{}", v.name, median(walls[i].clone()), ratio.unwrap_or_default());
    }

    let start = rss_kib();
    for i in 0..10_000u32 {
        if i % 2 == 0 {
            client.chat(req).unwrap();
        } else {
            futures::executor::block_on(client.chat_async(req)).unwrap();
        }
    }
    let mid = rss_kib();
    for _ in 0..10_000u32 {
        let mut s = client.stream(req).unwrap();
        for c in s.by_ref() {
            c.unwrap();
        }
    }
    println!(
        "RSS: {start} KiB before 10,000 chats (half async), {mid} KiB after; {} KiB after 10,000 streams more",
        rss_kib()
    );
}

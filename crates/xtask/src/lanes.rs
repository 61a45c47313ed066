//! Work side by side: kernels spend most of a cell in one rustc process, so two at a time keep
//! two cores busy. Each task's progress is collected and printed whole when it ends.

/// One unit of work, run on a worker thread.
pub type Task<'a, T> = Box<dyn FnOnce() -> T + Send + 'a>;

/// How many tasks run at once: `ELBO_TEST_JOBS`, else the cores, at most two.
pub fn jobs() -> usize {
    std::env::var("ELBO_TEST_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(2)))
}

/// Runs `tasks` on [`jobs`] threads, taking them in list order (put the longest first), printing
/// each task's report as it ends; returns the results in list order.
pub fn run<T: Send>(tasks: Vec<Task<'_, T>>) -> Vec<T> {
    run_on(tasks, jobs())
}

/// [`run`] on `lanes` threads (at least one), e.g. one when the caller is itself one of the lanes.
pub fn run_on<T: Send>(tasks: Vec<Task<'_, T>>, lanes: usize) -> Vec<T> {
    let n = tasks.len();
    let queue = std::sync::Mutex::new(tasks.into_iter().enumerate());
    let results = std::sync::Mutex::new((0..n).map(|_| None).collect::<Vec<Option<T>>>());
    std::thread::scope(|scope| {
        for _ in 0..lanes.max(1).min(n.max(1)) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().expect("queue").next();
                    let Some((i, task)) = next else { break };
                    let (result, report) = crate::util::captured(task);
                    print!("{report}");
                    results.lock().expect("results")[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("results")
        .into_iter()
        .map(|r| r.expect("every task ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_back_in_list_order() {
        let tasks: Vec<super::Task<'_, usize>> = (0..7)
            .map(|i| -> super::Task<'_, usize> {
                Box::new(move || {
                    crate::util::say("working\n");
                    i * i
                })
            })
            .collect();
        assert_eq!(super::run(tasks), vec![0, 1, 4, 9, 16, 25, 36]);
    }
}

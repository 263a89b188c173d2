import CRigorSpawn
import Foundation

/// Which CPUs the runner's threads, and the agents they start, run on (Linux CPU affinity).
///
/// An episode is a ping-pong: the worker thread sends an observation and sleeps, the agent
/// answers and sleeps. When both sit on one CPU, each hand-over is a context switch there;
/// when the scheduler spreads them over two, each one is a cross-CPU wake-up (an
/// inter-processor interrupt, which in a virtual machine is a trip through the hypervisor),
/// and each side's caches start cold. A batch therefore pins each worker, and the agents it
/// starts, to a CPU of its own when it has a worker for every CPU (`Batch.cpuPlan`).
///
/// Agents get the CPUs of the thread that starts them: an exec'd agent inherits them, and a
/// fork server's child is given them (the request's `cpus`, spec/agent-protocol.md §10).
public enum CPUPlacement {
    /// The CPUs this process may use (its main thread's), in increasing order; empty when the
    /// system cannot say.
    public static func allowedCPUs() -> [Int] {
        cpus(of: getpid())
    }

    /// How many episodes a batch runs at once unless told: one per CPU this process may use
    /// (what `taskset` or a cgroup leaves it, not every core of the machine).
    public static var defaultWorkerCount: Int {
        let allowed = allowedCPUs().count
        return allowed > 0 ? allowed : ProcessInfo.processInfo.activeProcessorCount
    }

    /// The CPUs the calling thread may run on.
    public static func currentThreadCPUs() -> [Int] {
        cpus(of: 0)
    }

    /// Restricts the calling thread (and every agent it starts from now on) to `cpus`. False
    /// when the system refuses (none of them may be used, or affinity is not supported).
    @discardableResult
    public static func pinCurrentThread(to cpus: [Int]) -> Bool {
        let list = cpus.map { Int32(clamping: $0) }
        return !list.isEmpty && list.withUnsafeBufferPointer { rigor_pin_thread($0.baseAddress, Int32($0.count)) } == 0
    }

    /// What a fork server's child is restricted to: the calling thread's CPUs when they are
    /// fewer than the process's (the thread was pinned), else nil (the child runs anywhere the
    /// server may, as an exec'd child of that thread would).
    static func childCPUs() -> [Int]? {
        let mine = currentThreadCPUs()
        guard !mine.isEmpty else { return nil }
        let all = allowedCPUs()
        return mine.count < all.count ? mine : nil
    }

    private static func cpus(of task: pid_t) -> [Int] {
        var out = [Int32](repeating: 0, count: 1024)
        let n = out.withUnsafeMutableBufferPointer { rigor_task_cpus(task, $0.baseAddress, Int32($0.count)) }
        return n > 0 ? out.prefix(Int(n)).map(Int.init) : []
    }
}

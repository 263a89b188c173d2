import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One call forwarded to a real upstream (`live` and `record`): the response head as soon as
/// it comes, then the body piece by piece as it arrives (an SSE stream is passed on to the agent
/// chunk by chunk, not after the last event). Everything is bounded: the head must come within
/// `headTimeout`, the body is cut at `maxBytes`, and `cancel()` ends it from the runner's side.
final class UpstreamCall: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let condition = NSCondition()
    private var response: HTTPURLResponse?
    private var pieces: [[UInt8]] = []
    private var finished = false
    private var failure: String?
    private var received = 0
    private let maxBytes: Int
    private var session: URLSession?
    private var task: URLSessionDataTask?

    init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// Starts the call. `headers` are sent as given (the gateway has already put the key in).
    static func start(url: URL, method: String, headers: [(String, String)], body: [UInt8], maxBytes: Int,
                      idleTimeout: TimeInterval) -> UpstreamCall {
        let call = UpstreamCall(maxBytes: maxBytes)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = idleTimeout
        configuration.timeoutIntervalForResource = max(idleTimeout, 600)
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in headers { request.addValue(value, forHTTPHeaderField: name) }
        if !body.isEmpty { request.httpBody = Data(body) }
        let session = URLSession(configuration: configuration, delegate: call, delegateQueue: nil)
        let task = session.dataTask(with: request)
        call.condition.lock()
        call.session = session
        call.task = task
        call.condition.unlock()
        task.resume()
        return call
    }

    /// The status and content type, once the head has come; nil and why when it did not.
    func head(timeout: TimeInterval) -> (status: Int, contentType: String)? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while response == nil && !finished {
            if !condition.wait(until: deadline) { failure = failure ?? "no answer within \(Int(timeout)) s"; break }
        }
        guard let response else { return nil }
        let type = response.value(forHTTPHeaderField: "Content-Type") ?? "application/octet-stream"
        return (response.statusCode, type)
    }

    /// Why the call failed, when it did.
    var failureReason: String {
        condition.lock()
        defer { condition.unlock() }
        return failure ?? "the upstream closed the connection"
    }

    /// The next piece of the body; nil at its end.
    func next() -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while pieces.isEmpty && !finished { condition.wait() }
        return pieces.isEmpty ? nil : pieces.removeFirst()
    }

    /// The rest of the body.
    func rest() -> [UInt8] {
        var out: [UInt8] = []
        while let piece = next() { out += piece }
        return out
    }

    func cancel() {
        condition.lock()
        let task = self.task
        if !finished { failure = failure ?? "cancelled: the episode ended" }
        condition.unlock()
        task?.cancel()
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        condition.lock()
        self.response = response as? HTTPURLResponse
        condition.broadcast()
        condition.unlock()
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        condition.lock()
        received += data.count
        if received > maxBytes {
            failure = "the upstream's answer is over \(maxBytes) bytes"
            finished = true
            condition.broadcast()
            condition.unlock()
            dataTask.cancel()
            return
        }
        pieces.append([UInt8](data))
        condition.broadcast()
        condition.unlock()
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        condition.lock()
        if let error, failure == nil { failure = error.localizedDescription }
        finished = true
        condition.broadcast()
        let owned = self.session
        self.session = nil
        condition.unlock()
        owned?.finishTasksAndInvalidate()
    }
}

// A Rigor agent written in Swift: speaks the agent protocol (spec/agent-protocol.md) directly
// on stdin/stdout and solves filesystem_hidden_config for every seed.
//
// Strategy: list /app, read every file whose name starts with ".config_" (else every file),
// extract API_KEY, report it. With --loop it lists /app forever, which the benchmarks use to
// drive long episodes. It can serve as its own fork server (RigorAgentKit, `--fork-server`).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RigorAgentKit
import RigorJSON

// No Foundation: the binary is linked statically and runs wherever it is copied.
let loopForever = CommandLine.arguments.contains("--loop")

func log(_ message: String) {
    var bytes = Array((message + "\n").utf8)
    _ = write(2, &bytes, bytes.count)
}

func basename(_ path: String) -> Substring {
    path.split(separator: "/").last ?? Substring(path)
}

struct ToyAgent {
    var toRead: [String] = []
    var listed = false

    mutating func act(_ obs: JSON) -> JSON {
        if loopForever { return action("list_dir", ["path": "/app"]) }
        let last = obs["last_action"]
        let result = obs["last_action_result"]
        let ok = result?["ok"]?.boolValue == true
        switch last?["type"]?.stringValue {
        case "read_file" where ok:
            return action("extract_value", ["content": result?["content"] ?? "", "key": "API_KEY"])
        case "extract_value" where ok:
            return action("set_output", ["key": "API_KEY", "value": result?["value"] ?? ""])
        default:
            break
        }
        if !listed {
            listed = true
            return action("list_dir", ["path": "/app"])
        }
        if toRead.isEmpty, let files = obs["visible_state"]?["files_seen"]?.arrayValue {
            let paths = files.compactMap(\.stringValue)
            let hidden = paths.filter { basename($0).hasPrefix(".config_") }
            toRead = (hidden.isEmpty ? paths : hidden).reversed()
        }
        if let next = toRead.popLast() { return action("read_file", ["path": .string(next)]) }
        return action("list_dir", ["path": "/app"])
    }

    func action(_ type: String, _ args: [String: JSON]) -> JSON {
        ["type": "action", "action": ["type": .string(type), "args": .object(args)]]
    }
}

/// One episode on stdin/stdout; returns the exit code.
func runEpisode() -> Int32 {
    var agent = ToyAgent()
    var out = [UInt8]()
    while let line = readLine(strippingNewline: true) {
        guard let message = try? JSON.parse(line), let type = message["type"]?.stringValue else {
            log("swift agent: unreadable message")
            return 2
        }
        switch type {
        case "reset":
            agent = ToyAgent()
        case "observe":
            let reply = agent.act(message["observation"] ?? .null)
            out.removeAll(keepingCapacity: true)
            do { try reply.write(into: &out, style: .jcs) } catch { return 2 }
            out.append(10)
            let sent = out.withUnsafeBytes { raw -> Bool in
                var offset = 0
                while offset < raw.count {
                    let n = write(1, raw.baseAddress! + offset, raw.count - offset)
                    if n <= 0 { return false }
                    offset += n
                }
                return true
            }
            if !sent { return 1 }
        case "end":
            return 0
        default:
            break
        }
    }
    return 0
}

// With `--rigor-fork-server` (what `rigor --fork-server` starts), serve episodes from forked
// children of this process; otherwise run one episode.
RigorForkServer.serveIfRequested(runEpisode)
exit(runEpisode())

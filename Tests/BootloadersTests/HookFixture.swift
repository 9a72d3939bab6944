import Bootloaders
import Foundation
import Platform
import Slots
import TestSupport

/// A small sgdisk-made disk with its slot pair, and a directory for hooks and their state.
///
/// The custom backend never writes the disk, so every test shares one (removed at exit):
/// sgdisk ends with sync(2), which costs about a second per disk on a busy machine.
final class HookFixture {
    let disk: TestDisk
    let pair: SlotPair
    let scratch: Scratch

    nonisolated(unsafe) private static let shared = Result { () throws -> (TestDisk, SlotPair) in
        let disk = try TestDisk(sizeMiB: 4, layout: TestDisk.compactFlatcarLayout)
        sharedDirectory = disk.directory.path
        atexit { if let directory = HookFixture.sharedDirectory { try? FileManager.default.removeItem(atPath: directory) } }
        return (disk, try SlotPair(disk: try Disk.probe(disk.path)))
    }
    /// Set once, under `shared`'s lazy initialisation.
    nonisolated(unsafe) private static var sharedDirectory: String?

    init() throws {
        try Integration.requireGPTTools()
        (disk, pair) = try Self.shared.get()
        scratch = try Scratch()
    }

    /// Writes an executable shell script and returns its path. Close-on-exec: a child that
    /// another test starts meanwhile must not keep the script open for writing, which would make
    /// executing it fail with ETXTBSY.
    @discardableResult
    func script(_ name: String, _ body: String) throws -> String {
        let path = scratch.file(name)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let text = Array(("#!/bin/sh\n" + body).utf8)
        let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == text.count else { throw POSIXError(.EIO) }
        return path
    }

    /// A well-behaved hook that keeps each slot's answer line in a file (`state/a`, `state/b`;
    /// no file reads as unbootable), logs its calls to `calls` and its environment to `env`.
    /// A file `state/fail-set-a` makes set-state of a fail; `state/booted` is get-booted's answer.
    func stateHook() throws -> String {
        let state = scratch.file("state")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        return try script("state-hook", """
            dir='\(state)'
            echo "$*" >> "$dir/calls"
            env > "$dir/env"
            case "$1" in
                get-state) cat "$dir/$2" 2>/dev/null || echo "priority=0 tries=0 good=0" ;;
                set-state)
                    if [ -e "$dir/fail-set-$2" ]; then echo "flash write failed" >&2; exit 1; fi
                    echo "$3 $4 $5" > "$dir/$2.new" && mv "$dir/$2.new" "$dir/$2" ;;
                get-booted) [ -e "$dir/booted" ] || exit 2; cat "$dir/booted" ;;
                *) exit 2 ;;
            esac
            """)
    }

    /// What the state hook holds for `slot`, read from its file, not through Tandem.
    func stored(_ slot: String) throws -> String {
        (try? String(contentsOfFile: scratch.file("state/\(slot)"), encoding: .utf8))?.trimmingCharacters(in: .newlines)
            ?? "priority=0 tries=0 good=0"
    }

    func setStored(_ slot: String, _ line: String) throws {
        try scratch.write(line + "\n", to: "state/\(slot)")
    }

    /// The state hook's calls since the last `clearCalls()`.
    var calls: [String] {
        ((try? String(contentsOfFile: scratch.file("state/calls"), encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    func clearCalls() {
        try? FileManager.default.removeItem(atPath: scratch.file("state/calls"))
    }

    func control(hook: String, limits: Subprocess.Limits = CustomHook.defaultLimits) -> BootControl {
        BootControl(pair: pair, backend: CustomHookBackend(hook: CustomHook(path: hook, limits: limits)))
    }
}

@testable import Engine
import Foundation
import Slots
import Testing
import TestSupport

/// The one commit point of the saved state: written first, then in memory; never memory alone.
@Suite struct StateBookTests {
    @Test("a commit writes the new state and only then shows it")
    func aCommitWritesThenSwaps() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        let book = StateBook(store: store, state: DaemonState())
        try book.commit { $0.lastCheckTime = 42 }
        #expect(book.state.lastCheckTime == 42)
        #expect(try store.load().state.lastCheckTime == 42)
        #expect(book.problem == nil)
    }

    @Test("a failed write leaves memory as the disk has it, tells the caller, and is the problem until a write succeeds")
    func aFailedWriteChangesNothing() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        let book = StateBook(store: store, state: DaemonState())
        try book.commit { $0.lastCheckTime = 1 }
        // A directory in the file's place: the rename onto it fails, even for root.
        try FileManager.default.removeItem(atPath: store.path)
        try FileManager.default.createDirectory(atPath: store.path + "/occupied", withIntermediateDirectories: true)
        #expect(throws: StateError.self) { try book.commit { $0.lastCheckTime = 2 } }
        #expect(book.state.lastCheckTime == 1, "memory did not move on")
        let problem = try #require(book.problem)
        #expect("\(problem)".contains("cannot save the state to \(store.path)"), "\(problem)")

        try FileManager.default.removeItem(atPath: store.path)
        try book.commit { $0.lastCheckTime = 3 }
        #expect(book.state.lastCheckTime == 3 && book.problem == nil)
    }

    @Test("a change that changes nothing writes nothing")
    func aNoChangeWritesNothing() throws {
        let directory = try Scratch()
        let store = StateStore(directory: directory.path)
        let book = StateBook(store: store, state: DaemonState())
        let answer = try book.commit { _ in 7 }
        #expect(answer == 7)
        #expect(!FileManager.default.fileExists(atPath: store.path))
    }

    @Test("concurrent commits are serialized: none is lost")
    func concurrentCommitsAreSerialized() throws {
        let directory = try Scratch()
        let book = StateBook(store: StateStore(directory: directory.path), state: DaemonState())
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            try? book.commit { $0.lastCheckTime += 1 }
        }
        #expect(book.state.lastCheckTime == 16)
        #expect(try StateStore(directory: directory.path).load().state.lastCheckTime == 16)
    }
}

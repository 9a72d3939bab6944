import Engine

/// state.json as tandemd loads it at startup.
enum StateJSONTarget {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome {
            _ = try ScratchDirectory.write(input, to: "state/state.json")
            let store = StateStore(directory: ScratchDirectory.path + "/state")
            let loaded = try store.load()
            // The fuzzer's oracles: a state that loads must save and load back unchanged, or a
            // restart would change what tandemd knows; and what was saved is never set aside.
            try store.save(loaded.state)
            let reloaded = try store.load()
            precondition(reloaded.setAside == nil, "a state tandemd saved was set aside as unreadable")
            precondition(reloaded.state == loaded.state, "state.json changed in a save and load")
        }
    }
}

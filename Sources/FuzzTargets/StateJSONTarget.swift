import Engine

/// state.json as tandemd loads it at startup.
enum StateJSONTarget {
    static func run(_ input: [UInt8]) -> FuzzOutcome {
        FuzzOutcome {
            _ = try ScratchDirectory.write(input, to: "state/state.json")
            let store = StateStore(directory: ScratchDirectory.path + "/state")
            let state = try store.load().state
            // The fuzzer's oracle: a state that loads must save and load back unchanged, or a
            // restart would change what tandemd knows.
            try store.save(state)
            let reloaded = try store.load().state
            precondition(reloaded == state, "state.json changed in a save and load")
        }
    }
}

import SwarmProtocol
import Testing

@Suite("Reading git's output: merge-tree, worktree lists, the runtime's author names")
struct GitTextTests {
    /// `git merge-tree --write-tree -z --name-only --no-messages` of git 2.39, recorded: a
    /// clean merge prints the tree alone, a conflict the tree and each conflicted path.
    static let clean = Array("e8a55a1b02b1d5c98e01b00389dd1e99b1197390\u{0}".utf8)
    static let conflicted = Array(
        "ebdc7ba8e8fddd79c8e61c23fb36285de652ab84\u{0}f\u{0}dir/a b.txt\u{0}f\u{0}".utf8)

    @Test func aCleanMergeHasATreeAndNoConflicts() throws {
        let result = try #require(GitText.mergeTree(Self.clean))
        #expect(result.tree == "e8a55a1b02b1d5c98e01b00389dd1e99b1197390")
        #expect(result.conflicts.isEmpty)
    }

    @Test func aConflictNamesEachPathOnceInGitsOrder() throws {
        let result = try #require(GitText.mergeTree(Self.conflicted))
        #expect(result.tree == "ebdc7ba8e8fddd79c8e61c23fb36285de652ab84")
        #expect(result.conflicts == ["f", "dir/a b.txt"])
    }

    @Test(arguments: ["", "fatal: not a tree\n", "1234\u{0}f\u{0}"])
    func outputWithoutATreeIsNotAMerge(_ text: String) {
        #expect(GitText.mergeTree(Array(text.utf8)) == nil)
    }

    @Test func worktreeListsNameTheirBranches() {
        let text = """
            worktree /home/u/app
            HEAD 4e2415c0000000000000000000000000000000000
            branch refs/heads/main

            worktree /ws/swarm/agents/boss/worktree
            HEAD 4e2415c0000000000000000000000000000000000
            branch refs/heads/swarm/boss

            worktree /ws/swarm/agents/w1/verify
            HEAD 4e2415c0000000000000000000000000000000000
            detached

            """
        #expect(
            GitText.worktrees(text) == [
                WorktreeEntry(path: "/home/u/app", branch: "main"),
                WorktreeEntry(path: "/ws/swarm/agents/boss/worktree", branch: "swarm/boss"),
                WorktreeEntry(path: "/ws/swarm/agents/w1/verify", branch: nil),
            ])
    }

    @Test func theRuntimesAuthorNamesCarryTheAgent() {
        #expect(GitText.agent(inAuthor: "swarm w1") == "w1")
        #expect(GitText.agent(inAuthor: "swarm ") == nil)
        #expect(GitText.agent(inAuthor: "Jane Doe") == nil)
    }
}

import SwarmRuntime

/// `swarm diff ID`, `swarm merge ID`, `swarm pr ID`, `swarm gc`: the agents' branches.
enum BranchCommand {
    static func diff(_ context: Context) throws {
        let text = try commands(context).diff(context.positionals[0])
        if !text.isEmpty { Output.print(text) }
    }

    static func merge(_ context: Context) throws {
        Output.print(try commands(context).merge(context.positionals[0]))
    }

    static func pullRequest(_ context: Context) throws {
        Output.print(try commands(context).pullRequest(context.positionals[0]))
    }

    static func collect(_ context: Context) throws {
        let report = try commands(context).collect()
        for path in report.worktrees { Output.print("removed worktree \(path)") }
        for branch in report.branches { Output.print("deleted merged branch \(branch)") }
        if report.worktrees.isEmpty && report.branches.isEmpty { Output.print("nothing to remove") }
    }

    private static func commands(_ context: Context) throws -> BranchCommands {
        BranchCommands(workspace: try context.workspace(), environment: context.environment)
    }
}

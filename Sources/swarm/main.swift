import SwarmCLI
import SwarmSystem

Processes.exit(SwarmCommand.main(Array(CommandLine.arguments.dropFirst())))

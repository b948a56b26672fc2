import SwarmSystem

Processes.exit(0)

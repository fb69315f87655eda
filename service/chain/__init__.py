"""Everything that talks to the chain: artifacts, deployment, local development nodes, contract clients."""

"""The node agent: what the kubelet does, for SimPods bound to this process's SimNodes."""

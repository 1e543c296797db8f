"""The embedded local control plane: real etcd, kube-apiserver and kube-controller-manager."""

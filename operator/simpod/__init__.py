"""simpod: the Kubernetes pod lifecycle, reimplemented for SimPod custom resources."""

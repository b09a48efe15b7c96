{{/*
A service's worker Deployment (decision 0019): the same image with worker.command, consuming the
service's work queues. Rendered with worker.enabled, by the same templates as the API, in a context
whose values are the chart's with the worker's replicaCount, resources, autoscaling and pdb, and
`workload: worker`; hence objects named <service>-worker whose pods carry their own name label, so the
API's headless Service, PDB, NetworkPolicy and topology spread never select them:
  - the Deployment (te-common.deployment): only the ops port, probes on it (`probes`, /healthz and
    /readyz), the service's ConfigMap, Secret keys and ServiceAccount;
  - a HorizontalPodAutoscaler with worker.autoscaling.enabled, a PodDisruptionBudget with more than one
    replica (or autoscaling);
  - a NetworkPolicy admitting the ops port only, from networkPolicy.metricsFrom;
  - with metrics.serviceMonitor.enabled, a PodMonitor (no Service fronts the worker).
No migration: the hook Job has run before the Deployment changes. When enabled, the ConfigMap sets each
variable of worker.disableInApi to false (te-common.configData), so the API pods leave the queues to it.
worker.requiredConfig lists configuration the worker cannot run without (context-service: shared storage).
*/}}
{{- define "te-common.worker" -}}
{{- if .Values.worker.enabled -}}
{{- $config := include "te-common.configData" . | fromYaml -}}
{{- range $key, $value := .Values.worker.requiredConfig -}}
{{- if ne (toString (index $config $key)) (toString $value) -}}
{{- fail (printf "%s: worker.enabled needs config.%s=%v (the worker runs apart from the API pods), not %q" $.Chart.Name $key $value (toString (index $config $key))) -}}
{{- end -}}
{{- end -}}
{{- $values := deepCopy .Values -}}
{{- $_ := set $values "component" "worker" -}}
{{- $_ := set $values "replicaCount" .Values.worker.replicaCount -}}
{{- $_ := set $values "resources" .Values.worker.resources -}}
{{- $_ := set $values "autoscaling" .Values.worker.autoscaling -}}
{{- $_ := set $values "pdb" .Values.worker.pdb -}}
{{- $worker := dict "Values" $values "workload" "worker" "Chart" .Chart "Release" .Release "Capabilities" .Capabilities "Template" .Template -}}
{{- range $kind := list "deployment" "horizontalPodAutoscaler" "podDisruptionBudget" "networkPolicy" "podMonitor" }}
{{- with include (printf "te-common.%s" $kind) $worker }}
---
{{ . }}
{{- end }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* For the Prometheus Operator (its CRD must exist): the worker's ops port, which no Service fronts. */}}
{{- define "te-common.podMonitor" -}}
{{- if .Values.metrics.serviceMonitor.enabled -}}
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata:
  name: {{ include "te-common.workloadName" . }}
  labels:
    {{- include "te-common.labels" . | nindent 4 }}
    {{- with .Values.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "te-common.selectorLabels" . | nindent 6 }}
  podMetricsEndpoints:
    - port: ops
      path: /metrics
      interval: {{ .Values.metrics.serviceMonitor.interval }}
      scrapeTimeout: {{ .Values.metrics.serviceMonitor.scrapeTimeout }}
{{- end -}}
{{- end -}}

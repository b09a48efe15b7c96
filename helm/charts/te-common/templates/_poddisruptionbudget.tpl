{{/* Only where more than one replica runs: drains take one at a time; unready pods may always go. */}}
{{- define "te-common.podDisruptionBudget" -}}
{{- if and .Values.pdb.enabled (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "te-common.workloadName" . }}
  labels:
    {{- include "te-common.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.pdb.maxUnavailable }}
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "te-common.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}

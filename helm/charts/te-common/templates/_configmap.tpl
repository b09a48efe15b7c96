{{/* Non-secret environment of the service (te-common.configData). */}}
{{- define "te-common.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "te-common.fullname" . }}-config
  labels:
    {{- include "te-common.labels" . | nindent 4 }}
data:
  {{- include "te-common.configData" . | nindent 2 }}
{{- end -}}

{{/*
Migrations as a Helm hook: before the install or upgrade changes anything else, one Job runs
`te-migrate deploy` from the new image; Helm waits for it and stops the release if it fails, so the
new version never starts against an old schema. te-migrate takes Prisma's advisory lock, so a second
runner (another release, a pod) cannot interleave. The previous Job is deleted when the next hook runs
(its logs stay until then). The Secret must exist beforehand (it is not part of the release).
Its pods carry their own name label, so the Service, PDB and NetworkPolicy never select them.
*/}}
{{- define "te-common.migrationJob" -}}
{{- if .Values.migration.enabled -}}
{{- if not .Values.existingSecret -}}
{{- fail (printf "%s: migration.enabled needs existingSecret (key %s)" .Chart.Name .Values.migration.databaseUrlKey) -}}
{{- end -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "te-common.fullname" . }}-migrate
  labels:
    {{- include "te-common.migrationLabels" . | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  backoffLimit: {{ .Values.migration.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.migration.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: {{ .Values.migration.ttlSecondsAfterFinished }}
  template:
    metadata:
      labels:
        {{- include "te-common.migrationLabels" . | nindent 8 }}
    spec:
      restartPolicy: Never
      {{- with .Values.migration.serviceAccountName }}
      serviceAccountName: {{ . }}
      {{- end }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with include "te-common.imagePullSecrets" . }}
      {{- . | nindent 6 }}
      {{- end }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: migrate
          image: {{ include "te-common.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          command:
            - node
            - tools/prisma-migrate/dist/cli.js
            - deploy
            - --schema
            - {{ .Values.migration.schema }}
          env:
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef:
                  name: {{ .Values.existingSecret }}
                  key: {{ .Values.migration.databaseUrlKey }}
          resources:
            {{- toYaml .Values.migration.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "te-common.tmpVolumeMount" . | nindent 12 }}
      volumes:
        {{- include "te-common.tmpVolume" . | nindent 8 }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
{{- end -}}

{{- define "te-common.migrationLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ .Chart.Name }}-migrate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: migration
app.kubernetes.io/part-of: te-explico
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
